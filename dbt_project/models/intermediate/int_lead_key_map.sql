{{ config(materialized='incremental', unique_key='source_record_id', incremental_strategy='delete+insert') }}
-- Lead key of every intake record (C3). Grain: one row per intake source_record_id.
-- Incremental so keys never change: the previous map is an input. Records that shared a key stay
-- together (keys never split), a later record joins its existing key, and when clusters merge the
-- key acquired earliest survives; original_lead_key keeps the key a record first had (the merge log).
-- Every run recomputes the components over all intake records; only new and re-keyed records are
-- written. A --full-refresh recomputes keys from scratch (earliest record wins).
with intake as (
    select
        source_record_id, event_at, loaded_at, load_id, source_row_number,
        row_number() over (order by source_record_id) as node_id
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

nodes as (
    select node_id from intake
),

edges as (
    select intake.node_id, keys.key_type || ':' || keys.key_value as group_key
    from {{ ref('int_identity_keys') }} as keys
    inner join intake on intake.source_record_id = keys.source_record_id
    where keys.entity = 'intake' and keys.links_intake and not keys.is_blocked

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
    coalesce(previous_map.original_lead_key, surviving_keys.lead_key, new_keys.lead_key) as original_lead_key
from components
inner join new_keys on new_keys.component_id = components.component_id
left join surviving_keys on surviving_keys.component_id = components.component_id
left join previous_map on previous_map.source_record_id = components.source_record_id
{% if is_incremental() %}
-- only new records and records whose lead merged into another are written (delete+insert)
where previous_map.source_record_id is null
   or previous_map.lead_key <> coalesce(surviving_keys.lead_key, new_keys.lead_key)
{% endif %}
