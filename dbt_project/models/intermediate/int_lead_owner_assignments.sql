{{ lead_incremental_config(with_routing=true) }}
-- Who owned each lead when (R13, C5). Grain: one row per owner assignment before the cut-off:
-- human assignments (intake records' owner_name: sheet 负责人, booth rep) and routing
-- (int_lead_routing, under the lead's key today). Ordered as int_lead_owner decides: by time,
-- timeless records first, a routing before a human record at the same time (the human one
-- wins). Each row names the assignment it replaced and when it was replaced; the last is the
-- lead's current assignment (assert_owner_history_matches_owner). owner_name is as assigned,
-- before the directory check (dim_leads.owner_name says who works the lead today).
-- Incremental by lead (issue 17, macros/lead_increments.sql), a lead also recomputed when its
-- routing moved (int_touched_routing_leads); fct_lead_owner_assignments is its copy.
with events as (
    select
        lead_key,
        owner_name,
        event_at as assigned_at,
        'human' as assignment_source,
        source_record_id,
        file_name,
        cast(null as {{ dbt.type_string() }}) as rule_name,
        cast(null as {{ dbt.type_string() }}) as routing_reason,
        cast(null as {{ dbt.type_string() }}) as unassigned_reason,
        1 as source_order,
        1 as key_order,
        loaded_at,
        load_id,
        source_row_number,
        cast(null as integer) as routing_number
    from {{ ref('int_lead_intake_records') }}
    where owner_name is not null and {{ touched('lead_key', with_routing=true) }}

    union all

    select
        routed.current_lead_key,
        routed.owner_name,
        routed.assigned_at,
        'routing',
        null,
        null,
        routed.rule_name,
        routed.reason,
        routed.unassigned_reason,
        0,
        -- a merged-away key's routing sorts before the surviving key's at the same time
        case when routed.lead_key = routed.current_lead_key then 1 else 0 end,
        null,
        null,
        null,
        routed.assignment_number
    from ({{ routing_log_by_lead(ref('int_lead_routing')) }}) as routed
    -- only leads visible at the cut-off
    inner join {{ ref('int_lead_profile') }} as leads on leads.lead_key = routed.current_lead_key
    where {{ touched('routed.current_lead_key', with_routing=true) }}
),

ordered as (
    select
        events.*,
        row_number() over (
            partition by lead_key
            order by assigned_at asc nulls first, source_order, key_order, routing_number,
                     loaded_at, load_id, source_row_number
        ) as assignment_number
    from events
)

select
    lead_key,
    cast(assignment_number as integer) as assignment_number,
    assigned_at,
    {{ business_date('assigned_at') }} as assigned_on,
    owner_name,
    lag(owner_name) over (partition by lead_key order by assignment_number) as previous_owner,
    assignment_source,
    source_record_id,
    file_name,
    rule_name,
    routing_reason,
    unassigned_reason,
    lead(assigned_at) over (partition by lead_key order by assignment_number) as replaced_at,
    assignment_number = count(*) over (partition by lead_key) as is_current
from ordered
