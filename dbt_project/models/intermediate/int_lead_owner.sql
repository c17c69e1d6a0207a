-- Owner of every lead at as_of (C5). Grain: one row per lead.
-- The latest owner assignment before the cut-off comes from intake records' owner_name (sheet
-- 负责人, booth rep); the person on a follow-up or status record is who did it, not the owner.
-- No assignment, a name not in the directory, or an inactive owner -> the fallback owner (ops);
-- a blank "active" cell counts as active.
-- Routing and reassignment records are a later issue.
with assignments as (
    select
        lead_key,
        owner_name,
        event_at as assigned_at,
        row_number() over (
            partition by lead_key
            order by event_at desc nulls last, loaded_at desc, load_id desc, source_row_number desc
        ) as assignment_rank
    from {{ ref('int_lead_intake_records') }}
    where owner_name is not null
),

latest_assignment as (
    select lead_key, owner_name, assigned_at from assignments where assignment_rank = 1
)

select
    leads.lead_key,
    latest_assignment.owner_name as assigned_owner_name,
    latest_assignment.assigned_at,
    case
        when latest_assignment.owner_name is null then 'no_owner'
        when owners.owner_name is null then 'unknown_owner'
        when not coalesce(owners.active, true) then 'inactive_owner'
        else 'assigned'
    end as owner_status,
    case
        when owners.owner_name is not null and coalesce(owners.active, true) then owners.owner_name
        else '{{ var("fallback_owner") }}'
    end as owner_name
from {{ ref('int_lead_profile') }} as leads
left join latest_assignment on latest_assignment.lead_key = leads.lead_key
left join {{ ref('stg_owners') }} as owners
    on owners.owner_match_key = lower(latest_assignment.owner_name)
