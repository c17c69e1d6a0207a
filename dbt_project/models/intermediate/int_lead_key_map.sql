{{ config(
    materialized='incremental', unique_key='source_record_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns'
) }}
-- Lead key of every intake record (C3). Grain: one row per intake source_record_id. An existing map
-- gains new audit columns in place (append_new_columns): it is never rebuilt (keys never change).
-- Incremental so keys never change: the previous map is an input. Records that shared a key stay
-- together (keys never split), a later record joins its existing key, and when clusters merge the
-- key acquired earliest survives; original_lead_key keeps the key a record first had (the merge log).
-- A --full-refresh recomputes keys from scratch (earliest record wins).
--
-- Issue 17: an incremental build recomputes the components only over the records a change can
-- reach: new records (not in the map yet) and every record of every existing lead that shares a
-- linking key with one of them, or whose key group already spans two leads (a re-versioned record
-- with a new email or phone, a key whose distinct-name count fell back under the limit, a domain +
-- person key that lost its company suffix). The previous leads are components closed under the key
-- edges, so that set is closed too: every edge leaving it would be a group spanning two leads.
-- Records outside it keep their key, as a computation over all records would give them. The
-- var rebuild_staging (the pipeline's full rebuild) recomputes over all records, the reference the
-- equality test (tests/test_incremental.py) compares with.
{%- set restricted = is_incremental() and not var('rebuild_staging', false) %}
with all_intake as (
    select source_record_id, event_at, loaded_at, load_id, source_row_number
    from {{ ref('stg_intake_records') }}
),

{% if is_incremental() %}
previous_map as (
    select source_record_id, lead_key, original_lead_key from {{ this }}
),
{% else %}
previous_map as (
    select
        cast(null as {{ dbt.type_string() }}) as source_record_id,
        cast(null as {{ dbt.type_string() }}) as lead_key,
        cast(null as {{ dbt.type_string() }}) as original_lead_key
    where 1 = 0
),
{% endif %}

linking_keys as materialized (
    select source_record_id, key_type || ':' || key_value as group_key
    from {{ ref('int_identity_keys') }}
    where entity = 'intake' and links_intake and not is_blocked
),

{% if restricted %}
new_records as materialized (
    select all_intake.source_record_id
    from all_intake
    left join previous_map on previous_map.source_record_id = all_intake.source_record_id
    where previous_map.source_record_id is null
),

-- Each linking key with the existing leads that carry it.
key_leads as materialized (
    select distinct linking_keys.group_key, previous_map.lead_key
    from linking_keys
    inner join previous_map on previous_map.source_record_id = linking_keys.source_record_id
),

touched_leads as materialized (
    -- leads sharing a key with a new record
    select key_leads.lead_key
    from key_leads
    inner join linking_keys on linking_keys.group_key = key_leads.group_key
    inner join new_records on new_records.source_record_id = linking_keys.source_record_id

    union

    -- leads on a key that already links two of them
    select key_leads.lead_key
    from key_leads
    inner join (
        select group_key from key_leads group by group_key having count(*) > 1
    ) as spanning on spanning.group_key = key_leads.group_key
),

affected as (
    select source_record_id from new_records

    union all

    select previous_map.source_record_id
    from previous_map
    inner join touched_leads on touched_leads.lead_key = previous_map.lead_key
),

intake as materialized (
    select
        all_intake.*,
        row_number() over (order by all_intake.source_record_id) as node_id
    from all_intake
    inner join affected on affected.source_record_id = all_intake.source_record_id
),
{% else %}
intake as materialized (
    select all_intake.*, row_number() over (order by source_record_id) as node_id
    from all_intake
),
{% endif %}

nodes as (
    select node_id from intake
),

edges as (
    select intake.node_id, linking_keys.group_key
    from linking_keys
    inner join intake on intake.source_record_id = linking_keys.source_record_id

    union all

    -- Keys never split: records that already share a lead key stay connected.
    select intake.node_id, 'lead:' || previous_map.lead_key
    from previous_map
    inner join intake on intake.source_record_id = previous_map.source_record_id
),

{{ connected_components('nodes', 'edges', var('identity_passes')) }}

components as (
    select intake.*, labels.label as component_id
    from intake
    inner join labels_{{ var('identity_passes') }} as labels on labels.node_id = intake.node_id
),

-- Existing keys inside each component, ranked by their lead's acquisition: the earliest survives.
existing_keys as (
    select
        components.component_id,
        previous_map.lead_key,
        min(components.event_at) as acquired_at,
        min(components.loaded_at) as first_loaded_at
    from components
    inner join previous_map on previous_map.source_record_id = components.source_record_id
    group by components.component_id, previous_map.lead_key
),

surviving_keys as (
    select component_id, lead_key
    from (
        select
            existing_keys.*,
            row_number() over (
                partition by component_id
                order by acquired_at asc nulls last, first_loaded_at asc, lead_key asc
            ) as key_rank
        from existing_keys
    ) as ranked
    where key_rank = 1
),

-- A new lead's key: its earliest timed intake record, else its first loaded one.
new_keys as (
    select component_id, source_record_id as lead_key
    from (
        select
            components.*,
            row_number() over (
                partition by component_id
                order by event_at asc nulls last, loaded_at asc, load_id asc, source_row_number asc,
                         source_record_id asc
            ) as record_rank
        from components
    ) as ranked
    where record_rank = 1
)

select
    components.source_record_id,
    coalesce(surviving_keys.lead_key, new_keys.lead_key) as lead_key,
    coalesce(previous_map.original_lead_key, surviving_keys.lead_key, new_keys.lead_key) as original_lead_key,
    -- the newest load when the row was written: int_activity_resolution re-resolves what moved
    {{ newest_record_load() }} as mapped_loaded_at
from components
inner join new_keys on new_keys.component_id = components.component_id
left join surviving_keys on surviving_keys.component_id = components.component_id
left join previous_map on previous_map.source_record_id = components.source_record_id
{% if is_incremental() %}
-- only new records and records whose lead merged into another are written (delete+insert)
where previous_map.source_record_id is null
   or previous_map.lead_key <> coalesce(surviving_keys.lead_key, new_keys.lead_key)
{% endif %}
