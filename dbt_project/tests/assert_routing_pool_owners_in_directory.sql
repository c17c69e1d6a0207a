-- Routing pool members missing from the owner directory (C5): routing skips them, so a typo in
-- config/routing.yaml quietly shrinks a pool. Warns; checked in forward runs only, the runs that
-- read the rules (the config tables may not exist otherwise).
{%- set pools = source('config', 'routing_pools') %}
{%- set directory = ref('stg_owners') %}
{% if routing_enabled() %}
select pools.pool_name, pools.owner_name
from {{ pools }} as pools
left join {{ directory }} as owners on owners.owner_match_key = lower(pools.owner_name)
where owners.owner_name is null
{% else %}
select cast(null as {{ dbt.type_string() }}) as pool_name where 1 = 0
{% endif %}
