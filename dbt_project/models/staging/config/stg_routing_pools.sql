{{ config(materialized='view', tags=['routing']) }}
-- Routing pools: one row per pool member in round-robin order, with the member's capacity per
-- business day (NULL = unlimited). Empty with the same columns in builds that do not route.
{%- set pools = source('config', 'routing_pools') %}
{% if routing_enabled() %}
select pool_name, position, owner_name, capacity_per_day
from {{ pools }}
{% else %}
select
    cast(null as {{ dbt.type_string() }}) as pool_name,
    cast(null as integer) as position,
    cast(null as {{ dbt.type_string() }}) as owner_name,
    cast(null as integer) as capacity_per_day
where 1 = 0
{% endif %}
