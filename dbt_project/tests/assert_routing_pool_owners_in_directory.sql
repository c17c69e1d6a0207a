-- Routing pool members missing from the owner directory (C5): routing skips them, so a typo in
-- config/routing.yaml quietly shrinks a pool. Warns; stg_routing_pools is empty in runs that do
-- not route, so this checks forward runs only.
select pools.pool_name, pools.owner_name
from {{ ref('stg_routing_pools') }} as pools
left join {{ ref('stg_owners') }} as owners on owners.owner_match_key = lower(pools.owner_name)
where owners.owner_name is null
