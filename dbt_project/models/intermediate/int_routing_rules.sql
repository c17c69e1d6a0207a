{{ config(materialized='view', tags=['routing']) }}
-- Routing rules (docs/routing.md) with how many fields each must match: a lead takes the first
-- rule, in rule order, whose every named field holds one of its values; a rule with no field
-- (field_count 0) is the default. Grain: one row per rule. Empty in builds that do not route.
with field_counts as (
    select rule_order, count(distinct field) as field_count
    from {{ ref('stg_routing_rule_matches') }}
    group by rule_order
)

select
    rules.rule_order,
    rules.rule_name,
    rules.pool_name,
    rules.is_default,
    cast(coalesce(field_counts.field_count, 0) as integer) as field_count
from {{ ref('stg_routing_rules') }} as rules
left join field_counts on field_counts.rule_order = rules.rule_order
