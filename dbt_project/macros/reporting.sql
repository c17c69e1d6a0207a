{#- Period reports (R11, C8 Periods): the same rows counted for the organisation, per team (the
    owner directory's manager) and per rep, so one mart answers all three. -#}

{# Rows of `cte` once per scope they belong to: organisation (scope_name 'all'), their team
   (column team_name) and their rep (column owner_name). With `total`, each row also counts once
   under the dimension value '(all)' (is_total), beside its own value of column `dim`. #}
{% macro report_scopes(cte, total=false) -%}
    {%- set scoped -%}
        select 'organisation' as scope, 'all' as scope_name, scoped_rows.* from {{ cte }} as scoped_rows
        union all
        select 'team', scoped_rows.team_name, scoped_rows.* from {{ cte }} as scoped_rows
        where scoped_rows.team_name is not null
        union all
        select 'rep', scoped_rows.owner_name, scoped_rows.* from {{ cte }} as scoped_rows
        where scoped_rows.owner_name is not null
    {%- endset -%}
    {%- if total %}
    select by_value.*, by_value.dim as dim_value, false as is_total from ({{ scoped }}) as by_value
    union all
    select all_values.*, '(all)', true from ({{ scoped }}) as all_values
    {%- else %}
    {{ scoped }}
    {%- endif %}
{%- endmacro %}

{# Rows whose business date `on` falls in a period: period_start <= on < period_end. #}
{% macro in_period(on, periods='periods') -%}
    ({{ on }} >= {{ periods }}.period_start and {{ on }} < {{ periods }}.period_end)
{%- endmacro %}

{# A share with a zero denominator is unknown (NULL), never 0. #}
{% macro share(numerator, denominator) -%}
    case when ({{ denominator }}) > 0
         then cast({{ numerator }} as {{ type_double() }}) / ({{ denominator }}) end
{%- endmacro %}

{# `aggregates` ({output column: SQL aggregate}, in order) over the scoped rows of `rows`
   (report_scopes) per period their business date `on` falls in, per scope and, with
   `dimension`, per dim_value and is_total: the per-period sources of period_trend. #}
{% macro aggregate_per_period(rows, on, aggregates, dimension=false, periods='periods') -%}
    select
        {{ periods }}.period_kind, {{ periods }}.period_start, {{ rows }}.scope, {{ rows }}.scope_name,
        {%- if dimension %}
        {{ rows }}.dim_value, {{ rows }}.is_total,
        {%- endif %}
        {%- for name, expression in aggregates.items() %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ rows }}
    inner join {{ periods }} on {{ in_period(rows ~ '.' ~ on, periods) }}
    group by 1, 2, 3, 4{% if dimension %}, 5, 6{% endif %}
{%- endmacro %}

{# The tail every rpt_period_* figure mart shares: the `sources` CTEs (each one row per
   period_kind, period_start, scope, scope_name and, with `dimension`, dim_value and is_total)
   made dense over the periods of `periods` (int_report_periods), so a scope or value with no
   row in a period shows its `measures` there (0 or NULL, as each expression says); then
   `derived` columns over those, the value of each `previous` column in the period before, and
   the rows of the trend. Emits CTEs `series`, `filled` (`derived`), `with_previous` and the final
   select; call it after the model's last CTE and a comma.
   measures / derived: {output column: SQL expression}, in output order; measures read the
   source CTEs by name, derived read the measures. #}
{% macro period_trend(sources, measures, previous, dimension=none, derived={}, periods='periods') -%}
    {%- set keys = ['scope', 'scope_name'] + (['dim_value', 'is_total'] if dimension else []) -%}
    {%- set series_keys = (['period_kind'] + keys) | join(', ') -%}
    {%- set lag_keys = ['period_kind', 'scope', 'scope_name'] + ([dimension] if dimension else []) -%}
    {%- set last = 'derived' if derived else 'filled' -%}
series as (
    {%- for source in sources %}
    select distinct {{ series_keys }} from {{ source }}
    {%- if not loop.last %}
    union{% endif %}
    {%- endfor %}
),

filled as (
    select
        {{ periods }}.period_kind,
        {{ periods }}.period_start,
        {{ periods }}.period_end,
        {{ periods }}.period_index,
        {{ periods }}.in_trend,
        series.scope,
        series.scope_name,
        {%- if dimension %}
        series.dim_value as {{ dimension }},
        series.is_total,
        {%- endif %}
        {%- for name, expression in measures.items() %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from series
    inner join {{ periods }} on {{ periods }}.period_kind = series.period_kind
    {%- for source in sources %}
    left join {{ source }}
        on {{ source }}.period_kind = series.period_kind
       and {{ source }}.period_start = {{ periods }}.period_start
       and {{ source }}.scope = series.scope and {{ source }}.scope_name = series.scope_name
       {%- if dimension %}
       and {{ source }}.dim_value = series.dim_value
       {%- endif %}
    {%- endfor %}
),
{%- if derived %}

derived as (
    select
        filled.*,
        {%- for name, expression in derived.items() %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from filled
),
{%- endif %}

with_previous as (
    select
        {{ last }}.*,
        {%- for column in previous %}
        lag({{ column }}) over (
            partition by {{ lag_keys | join(', ') }} order by period_start
        ) as previous_{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ last }}
)

select
    period_kind, period_start, period_end, period_index, scope, scope_name,
    {%- if dimension %} {{ dimension }}, is_total,{% endif %}
    {{ (measures.keys() | list + derived.keys() | list) | join(', ') }},
    {% for column in previous %}previous_{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
from with_previous
where in_trend
{%- endmacro %}

{# One row of rpt_period_cases from `alias` (scoped rows joined to `periods`): the period and
   scope, the case type, its rank there by `order_by`, the lead's columns, then the case type's
   `details` ({column: SQL}); the detail columns a type does not have are typed NULLs. #}
{% macro report_case(alias, case_type, order_by, details, periods='periods') -%}
        {{ periods }}.period_kind, {{ periods }}.period_start, {{ periods }}.period_end,
        {{ alias }}.scope, {{ alias }}.scope_name,
        '{{ case_type }}' as case_type,
        row_number() over (
            partition by {{ periods }}.period_kind, {{ alias }}.scope, {{ alias }}.scope_name
            order by {{ order_by }}
        ) as case_rank,
        {%- for column in ['lead_key', 'owner_name', 'company', 'person_name', 'source_label', 'grade', 'acquired_on'] %}
        {{ alias }}.{{ column }},
        {%- endfor %}
        {{- typed_row([
            ('closed_on', 'date'), ('won_on', 'date'), ('cycle_days', dbt.type_int()),
            ('lost_reason', dbt.type_string()), ('churn_category', dbt.type_string()),
            ('outcome', dbt.type_string()), ('source_conversion_to_date', type_double()),
            ('next_due', 'date'), ('days_overdue', dbt.type_int()),
            ('rep_overdue_backlog', dbt.type_bigint()),
        ], details) }}
{%- endmacro %}

{# A rule of seed analysis_rules over the period rows of `relation` (as `alias`): the rows'
   period and scope, the rule and its subject, the observed and compared figures and the volume
   (as doubles where the caller casts them; volume always), joined to the rule (CTE `rules`).
   The caller adds the rule's condition (`where ...`) and any further join. #}
{% macro rule_fires(rule_id, relation, alias, subject, observed, compared, volume) -%}
    select
        {{ alias }}.period_kind, {{ alias }}.period_start, {{ alias }}.period_end,
        {{ alias }}.period_index, {{ alias }}.scope, {{ alias }}.scope_name,
        rules.rule_id, {{ subject }} as subject,
        {{ observed }} as observed_value,
        {{ compared }} as compared_value,
        cast({{ volume }} as {{ type_double() }}) as volume
    from {{ relation }} as {{ alias }}
    inner join rules on rules.rule_id = '{{ rule_id }}'
{%- endmacro %}
