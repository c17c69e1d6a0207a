{{ config(materialized='view', tags=['routing']) }}
-- Who can take routed leads (C5, docs/routing.md): each pool's members that are active entries of
-- the owner directory, in round-robin order. An inactive member, or a name not in the directory,
-- is skipped (and the routing tests flag it). Grain: one row per pool and active member.
select
    pools.pool_name,
    owners.owner_name,
    pools.capacity_per_day,
    row_number() over (partition by pools.pool_name order by pools.position) - 1 as member_index,
    count(*) over (partition by pools.pool_name) as pool_size
from {{ ref('stg_routing_pools') }} as pools
inner join {{ ref('stg_owners') }} as owners on owners.owner_match_key = lower(pools.owner_name)
where coalesce(owners.active, true)
