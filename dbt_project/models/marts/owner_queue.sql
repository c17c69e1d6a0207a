-- Each owner's work for the morning of as_of (C8, C5; docs/interfaces.md: mail and BI read it).
-- Grain: one row per lead and item type. Items without a usable owner belong to ops.
-- Only open leads get cadence items (overdue, due today, no plan, nurture) and grading items;
-- customers (won, not churned) get care items; open leads and customers get complete_record.
-- priority (1 = first within the owner): overdue grade A first, then most days overdue, then the
-- item type's section order, grade, next due date and lead key (stable).
with leads as (
    select * from {{ ref('dim_leads') }}
),

cadence as (
    select * from {{ ref('int_lead_cadence') }}
),

care_due as (
    select
        lead_key,
        min(due_by) as due_by,
        {{ dbt.listagg("care_stream || coalesce(' (' || occasion || ' ' || cast(due_by as " ~ dbt.type_string() ~ ") || ')', ' (' || period || ')')", "', '", 'order by care_stream') }}
            as streams
    from {{ ref('int_customer_care_due') }}
    group by lead_key
),

items as (
    select
        cadence.lead_key,
        case when cadence.is_overdue then 'overdue' else 'due_today' end as item_type,
        case
            when cadence.next_action_due is not null
                then 'next action due ' || cast(cadence.next_action_due as {{ dbt.type_string() }})
                     || coalesce(': ' || cadence.next_action, '')
            else 'grade ' || cadence.grade || ' contact every ' || cast(cadence.contact_days as {{ dbt.type_string() }})
                 || ' days, last touch ' || coalesce(cast(cadence.last_touch_on as {{ dbt.type_string() }}), 'none')
        end as item_detail,
        false as is_new,
        cadence.next_due,
        cadence.days_overdue
    from cadence
    where cadence.is_overdue or cadence.is_due_today

    union all

    select
        lead_key,
        'no_plan',
        'latest follow-up has no next action (R6)',
        false,
        next_due,
        days_overdue
    from cadence
    where is_no_plan

    union all

    select
        lead_key,
        'nurture_due',
        'send ' || coalesce(content_material, 'content') || '; last content '
            || coalesce(cast(last_content_on as {{ dbt.type_string() }}), 'none'),
        false,
        next_content_due,
        case when next_content_due < {{ as_of_date() }}
             then {{ days_between('next_content_due', as_of_date()) }} else 0 end
    from cadence
    where is_nurture_due

    union all

    -- C7: ungraded open leads; "new" when acquired since the previous run's cut-off or routed
    -- since then (issue 9: "new lead: grade within 24 h" with the deadline in business time); a
    -- lead routing could not place tells ops why
    select
        cadence.lead_key,
        'grade_lead',
        case
            when leads.routing_unassigned_reason is not null
                then 'not routed (' || leads.routing_unassigned_reason || '): assign an owner; '
            when leads.owner_source = 'routing'
                 and leads.owner_assigned_at > {{ dbt.dateadd('day', -1, cutoff_utc()) }}
                then 'new lead: '
            else 'ungraded: '
        end
        || 'grade within {{ var("grading_sla_hours") }} h of acquisition (R3)'
        || coalesce(', by ' || left(cast(((cadence.grade_due_at at time zone 'UTC')
                    at time zone '{{ business_timezone() }}') as {{ dbt.type_string() }}), 16), ''),
        coalesce(cadence.acquired_at >= {{ dbt.dateadd('day', -1, cutoff_utc()) }}, false)
            or coalesce(leads.owner_source = 'routing'
                        and leads.owner_assigned_at > {{ dbt.dateadd('day', -1, cutoff_utc()) }}, false),
        cadence.grade_due_on,
        case when cadence.grade_due_on < {{ as_of_date() }}
             then {{ days_between('cadence.grade_due_on', as_of_date()) }} else 0 end
    from cadence
    inner join leads on leads.lead_key = cadence.lead_key
    where cadence.is_open and cadence.grade is null

    union all

    select lead_key, 'complete_record', 'missing: ' || missing_fields, false, null, null
    from leads
    where missing_fields is not null and (is_open or is_customer)

    union all

    select lead_key, 'care_due', 'due: ' || streams, false, due_by,
        case when due_by < {{ as_of_date() }} then {{ days_between('due_by', as_of_date()) }} else 0 end
    from care_due
),

enriched as (
    select
        {{ as_of_date() }} as as_of,
        leads.owner_name,
        owners.email as owner_email,
        owners.language as owner_language,
        items.lead_key,
        items.item_type,
        items.item_detail,
        items.is_new,
        leads.company,
        leads.person_name,
        leads.title,
        leads.phone,
        leads.email,
        leads.grade,
        leads.last_touch_at,
        leads.next_action,
        items.next_due,
        cast(items.days_overdue as integer) as days_overdue,
        item_types.sort_order as item_sort_order
    from items
    inner join leads on leads.lead_key = items.lead_key
    left join {{ ref('dim_owners') }} as owners on owners.owner_name = leads.owner_name
    left join {{ ref('accepted_values') }} as item_types
        on item_types.field_name = 'item_type' and item_types.value = items.item_type
)

select
    as_of, owner_name, owner_email, owner_language, lead_key, item_type, item_detail, is_new,
    company, person_name, title, phone, email, grade, last_touch_at, next_action, next_due,
    days_overdue,
    cast(row_number() over (
        partition by owner_name
        order by case when item_type = 'overdue' and grade = 'A' then 0 else 1 end,
                 days_overdue desc nulls last, item_sort_order, grade nulls last, next_due nulls last,
                 lead_key
    ) as integer) as priority
from enriched
