{{ config(materialized='view', tags=['routing']) }}
-- Routing rules (issue 9, docs/routing.md) as leadflow.routing_rules wrote them from
-- config/routing.yaml before this build. Read only in forward runs (var routing_enabled): builds
-- that do not route (tests, backfills, the PostgreSQL comparison) need no config tables, so the
-- view is then empty with the same columns. The source is named up front either way, so the
-- dependency graph is the same in every run.
{%- set rules = source('config', 'routing_rules') %}
{% if routing_enabled() %}
select rule_order, rule_name, pool_name, is_default, match_text, rules_file, rules_sha256
from {{ rules }}
{% else %}
select
    cast(null as integer) as rule_order,
    cast(null as {{ dbt.type_string() }}) as rule_name,
    cast(null as {{ dbt.type_string() }}) as pool_name,
    cast(null as boolean) as is_default,
    cast(null as {{ dbt.type_string() }}) as match_text,
    cast(null as {{ dbt.type_string() }}) as rules_file,
    cast(null as {{ dbt.type_string() }}) as rules_sha256
where 1 = 0
{% endif %}
