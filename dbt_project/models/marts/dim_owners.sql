-- The owner directory as read by mail and BI (C5, docs/interfaces.md). Grain: one row per owner.
select
    owner_name,
    email,
    language,
    manager,
    coalesce(active, true) as is_active  -- a blank "active" cell means active (validation flags it)
from {{ ref('stg_owners') }}
