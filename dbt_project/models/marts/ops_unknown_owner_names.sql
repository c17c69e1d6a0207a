-- Owner and actor names, on records before the cut-off, that are not in the owner directory (C5,
-- C6): their leads' items go to ops. Grain: one row per name.
with names as (
    select owner_name, file_name from {{ ref('int_lead_intake_records') }}
    union all
    select actor_name, file_name from {{ ref('int_follow_ups') }}
    union all
    select actor_name, file_name from {{ ref('int_status_changes') }}
    union all
    select actor_name, file_name from {{ ref('int_care_actions') }}
)

select
    names.owner_name,
    count(*) as record_count,
    {{ dbt.listagg('distinct names.file_name', "', '", 'order by names.file_name') }} as files
from names
left join {{ ref('stg_owners') }} as owners on owners.owner_match_key = lower(names.owner_name)
where names.owner_name is not null and owners.owner_name is null
group by names.owner_name
