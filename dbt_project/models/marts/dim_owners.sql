-- The owner directory as read by mail and BI (C5, docs/interfaces.md). Grain: one row per owner.
-- The fallback owner (ops) takes its address from the directory; where the directory has no
-- address for it, the setting LEADFLOW_OPS_EMAIL supplies one (README, configuration).
{%- set ops = var('fallback_owner') %}
{%- set ops_email = env_var('LEADFLOW_OPS_EMAIL', '') | trim | replace("'", "''") %}
with directory as (
    select
        owner_name,
        email,
        language,
        manager,
        coalesce(active, true) as is_active  -- a blank "active" cell means active (validation flags it)
    from {{ ref('stg_owners') }}
)

select
    owner_name,
    {% if ops_email -%}
    case when owner_name = '{{ ops }}' then coalesce(email, '{{ ops_email }}') else email end as email,
    {%- else -%}
    email,
    {%- endif %}
    language,
    manager,
    is_active
from directory
{% if ops_email -%}
union all
select '{{ ops }}', '{{ ops_email }}', null, null, true
where not exists (select 1 from directory where owner_name = '{{ ops }}')
{%- endif %}
