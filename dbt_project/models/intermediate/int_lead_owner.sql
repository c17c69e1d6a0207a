-- Owner of every lead at as_of (C5). Grain: one row per lead.
-- Assignments before the cut-off: the latest human one (int_lead_human_owner: sheet 负责人, booth
-- rep; the person on a follow-up or status record is who did it, not the owner) and the latest
-- routing (int_lead_routing, made in forward runs). Routing only assigns leads without a usable
-- owner, so the later of the two wins: a human record dated after the routing is an explicit
-- reassignment, a re-route of an inactive owner's lead replaces that owner; at equal times the
-- human one wins (routing never overrides a human).
-- No assignment, a name not in the directory, or an inactive owner -> the fallback owner (ops);
-- a blank "active" cell counts as active.
with routed as (
    {{ routing_log_by_lead(ref('int_lead_routing')) }}
),

assignments as (
    select
        leads.lead_key,
        human.owner_name as human_owner_name,
        human.assigned_at as human_assigned_at,
        routed.owner_name as routed_owner_name,
        routed.assigned_at as routed_at,
        routed.rule_name,
        routed.unassigned_reason,
        coalesce(
            routed.current_lead_key is not null
            and (human.assigned_at is null or routed.assigned_at > human.assigned_at),
            false
        ) as routing_wins
    from {{ ref('int_lead_profile') }} as leads
    left join {{ ref('int_lead_human_owner') }} as human on human.lead_key = leads.lead_key
    left join routed on routed.current_lead_key = leads.lead_key and routed.routing_rank = 1
),

latest_assignment as (
    select
        lead_key,
        case when routing_wins then routed_owner_name else human_owner_name end as owner_name,
        case when routing_wins then routed_at else human_assigned_at end as assigned_at,
        case
            when routing_wins then 'routing'
            when human_owner_name is not null then 'human'
        end as owner_source,
        case when routing_wins then rule_name end as routing_rule,
        case when routing_wins then unassigned_reason end as routing_unassigned_reason
    from assignments
)

select
    latest_assignment.lead_key,
    latest_assignment.owner_name as assigned_owner_name,
    latest_assignment.assigned_at,
    latest_assignment.owner_source,
    latest_assignment.routing_rule,
    latest_assignment.routing_unassigned_reason,
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
from latest_assignment
left join {{ ref('stg_owners') }} as owners
    on owners.owner_match_key = lower(latest_assignment.owner_name)
