{{ config(materialized='view', tags=['routing']) }}
-- The values each routing rule accepts, one row per rule, field and value (trimmed, lower-cased
-- by leadflow.routing_rules). Empty with the same columns in builds that do not route.
{%- set rule_matches = source('config', 'routing_rule_matches') %}
{% if routing_enabled() %}
select rule_order, field, value
from {{ rule_matches }}
{% else %}
select
    cast(null as integer) as rule_order,
    cast(null as {{ dbt.type_string() }}) as field,
    cast(null as {{ dbt.type_string() }}) as value
where 1 = 0
{% endif %}
