{#
  Issue 17: the lead-level intermediate models recompute only the leads whose inputs changed
  since the last build. int_touched_leads holds a fingerprint per lead over what these models
  read of it: its intake records and resolved activities (record id, version, lead, how it was
  resolved) and, for each of their event times, whether it is visible at this cut-off. A lead
  whose fingerprint moved (new or re-versioned record, a merge, a record joining or leaving it, an
  event crossing the cut-off in either direction: a new day or a backfill) or that vanished (merged
  away, nothing visible any more) is "changed". Each model here deletes the rows of the changed
  leads, and of the activities that resolve to no lead (few; they may resolve on any build), and
  appends those rows recomputed from its inputs restricted to the same leads.

  That is exact only for a model whose rows for a lead depend on nothing but that lead's records
  (no cross-lead window, no as_of beyond visibility: those are tagged time_driven and stay tables).
  The vars rebuild_staging (new code or timezone, --full-refresh) and rebuild_leads (the last build
  did not pass, so some of these models may be ahead of the fingerprints) rebuild them from all rows.
#}

{# What every model incremental by lead shares: appended rows, a pre-hook that deletes what the
   build recomputes, a whole rebuild when rebuild_lead_models says so. #}
{% macro by_lead_config(pre_hook) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=(true if rebuild_lead_models() else none),
        pre_hook=pre_hook
    ) }}
    {#- the ref inside touched() is only rendered in incremental builds; dbt learns the edge here #}
    -- depends_on: {{ ref('int_touched_leads') }}
{%- endmacro %}

{% macro lead_incremental_config(with_unresolved=false, with_routing=false) -%}
    {{ by_lead_config("{{ delete_changed_lead_rows(" ~ with_unresolved ~ ", " ~ with_routing ~ ") }}") }}
    {%- if with_routing %}
    -- depends_on: {{ ref('int_touched_routing_leads') }}
    {%- endif %}
{%- endmacro %}

{# A lead-level model over the reporting periods (grain: period and lead): besides the changed
   leads' rows, a build deletes the rows of periods that are no longer the report's (as_of moved
   into a new week or month) and computes every lead for a period it holds no row of, so a new
   as_of within the same week and month recomputes only the changed leads. #}
{% macro period_incremental_config() -%}
    {{ by_lead_config("{{ delete_changed_period_rows() }}") }}
{%- endmacro %}

{% macro delete_changed_period_rows() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ touched('lead_key') }}
       or (period_kind, period_index, period_start) not in (
           select period_kind, period_index, period_start from {{ ref('int_report_periods') }}
       )
    {%- endif -%}
{%- endmacro %}

{# Whether the period row `alias` is one the kept table holds no row of: true in a full build. #}
{% macro period_is_new(alias) -%}
    {%- if is_incremental() -%}
    not exists (
        select 1 from {{ this }} as kept
        where kept.period_kind = {{ alias }}.period_kind
          and kept.period_index = {{ alias }}.period_index
          and kept.period_start = {{ alias }}.period_start
    )
    {%- else -%}
    (1 = 1)
    {%- endif -%}
{%- endmacro %}

{% macro rebuild_lead_models() -%}
    {{- return(var('rebuild_staging', false) or var('rebuild_leads', false)) -}}
{%- endmacro %}

{# A predicate: true in a full build; in an incremental build, the lead is one that changed (or,
   with_unresolved, the row resolves to no lead; with_routing, the lead's routing log moved:
   int_touched_routing_leads, for the models with owner assignments). #}
{% macro touched(lead_key, with_unresolved=false, with_routing=false) -%}
    {%- if is_incremental() -%}
    ({{ lead_key }} in (select lead_key from {{ ref('int_touched_leads') }} where changed)
        {%- if with_routing %}
        or {{ lead_key }} in (select lead_key from {{ ref('int_touched_routing_leads') }} where changed)
        {%- endif %}
        {%- if with_unresolved %} or {{ lead_key }} is null{% endif %})
    {%- else -%}
    (1 = 1)
    {%- endif -%}
{%- endmacro %}

{% macro delete_changed_lead_rows(with_unresolved, with_routing=false) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ touched('lead_key', with_unresolved, with_routing) }}
    {%- endif -%}
{%- endmacro %}

{# The fingerprints the last build stored (this model's own table), none when every lead is
   recomputed (rebuild_lead_models) or there was no build yet. #}
{% macro last_fingerprints() -%}
    {{- return(none if rebuild_lead_models() else load_relation(this)) -}}
{%- endmacro %}

{# The body of a fingerprint model after its `fingerprints` CTE (lead_key, fingerprint,
   record_count): one row per lead there or in `previous` (a lead gone keeps a row with a NULL
   fingerprint), changed when new, gone or moved; with no previous, every lead is changed. #}
{% macro fingerprints_changed_since(previous) -%}
{% if previous is not none %}
, previous as (
    select lead_key, fingerprint, record_count from {{ previous }} where fingerprint is not null
)

select
    coalesce(fingerprints.lead_key, previous.lead_key) as lead_key,
    fingerprints.fingerprint,
    fingerprints.record_count,
    (fingerprints.lead_key is null or previous.lead_key is null
     or fingerprints.fingerprint <> previous.fingerprint
     or fingerprints.record_count <> previous.record_count) as changed
from fingerprints
full outer join previous on previous.lead_key = fingerprints.lead_key
{% else %}
select lead_key, fingerprint, record_count, true as changed
from fingerprints
{% endif %}
{%- endmacro %}

{# A 64-bit hash of one string, for order-free aggregation with bit_xor. #}
{% macro fingerprint_hash(expr) -%}
    {{- return(adapter.dispatch('fingerprint_hash')(expr)) -}}
{%- endmacro %}

{% macro default__fingerprint_hash(expr) -%}
    hashtextextended({{ expr }}, 0)
{%- endmacro %}

{% macro duckdb__fingerprint_hash(expr) -%}
    hash({{ expr }})
{%- endmacro %}

{# The parts of one record's fingerprint as one string: each part cast to text, NULL spelled. #}
{% macro fingerprint_text(parts) -%}
    concat_ws('|'{% for part in parts %}, coalesce(cast({{ part }} as {{ dbt.type_string() }}), '~'){% endfor %})
{%- endmacro %}

{# Whether each timestamp column of `alias` is visible at this cut-off, as expressions: 't'
   timeless, 'v' visible, 'h' not yet (C4; the same comparison as visible_at_cutoff). #}
{% macro visibility_marks(alias, columns) -%}
    {%- set marks = [] -%}
    {%- for column in columns -%}
        {%- do marks.append("case when " ~ alias ~ "." ~ column ~ " is null then 't' when " ~ alias ~ "."
                            ~ column ~ " < " ~ cutoff_utc() ~ " then 'v' else 'h' end") -%}
    {%- endfor -%}
    {{- return(marks) -}}
{%- endmacro %}
