-- Teams (R11 reports): a rep's team is their manager in the owner directory (C5); a manager's own
-- leads count in their own team. Grain: one row per directory entry; match on owner_match_key
-- (lower-cased name), as names are matched elsewhere.
with directory as (
    select owner_name, lower(owner_name) as owner_match_key, manager
    from {{ ref('stg_owners') }}
),

managers as (
    select distinct lower(manager) as owner_match_key from directory where manager is not null
)

select
    directory.owner_name,
    directory.owner_match_key,
    coalesce(
        directory.manager,
        case when managers.owner_match_key is not null then directory.owner_name end
    ) as team_name
from directory
left join managers on managers.owner_match_key = directory.owner_match_key
