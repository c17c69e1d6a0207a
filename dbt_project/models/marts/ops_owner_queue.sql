{{ config(tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- Each owner's work for the morning of as_of (C8, C5; docs/interfaces.md: mail and BI read it).
-- Grain: one row per lead and item type (specify_record: per follow-up record, R7). Items
-- without a usable owner belong to ops; a specify_record item belongs to the rep who wrote the
-- record when the directory has them active, else to the lead's owner.
-- Only open leads get cadence items (overdue, due today, no plan, nurture) and grading items;
-- customers (won, not churned) get care items; open leads and customers get complete_record.
-- Every item is described by structured columns (codes, dates, numbers), never by prose: the
-- email words them in the owner's language (notify/locales), BI filters on them.
-- priority (1 = first within the owner): overdue grade A first, then most days past the item's
-- own due date, then the item type's section order, grade, next due date and lead key (stable).
with leads as (
    select * from {{ ref('dim_leads') }}
),

-- every item type but complete_record comes from int_owner_queue_items; complete_record needs
-- the lead's missing fields (C6: judged on the resolved lead), which dim_leads defines
items as (
    select * from {{ ref('int_owner_queue_items') }}

    union all

    -- C6: what makes the record incomplete, waiting since acquisition
    select {{ queue_item({
        'lead_key': 'lead_key', 'item_type': "'complete_record'",
        'waiting_since': 'acquired_at', 'missing_fields': 'missing_fields',
    }) }}
    from leads
    where missing_fields is not null and (is_open or is_customer)
),

enriched as (
    select
        {{ as_of_date() }} as as_of,
        coalesce(writers.owner_name, leads.owner_name) as owner_name,
        coalesce(writers.email, owners.email) as owner_email,
        coalesce(writers.language, owners.language) as owner_language,
        items.lead_key,
        items.item_type,
        -- the lead reached this owner since the previous business day's cut-off: acquired, or
        -- assigned (a human record or routing, docs/routing.md); the email's own "new" badge
        -- comes from its ledger (docs/mail.md) and falls back on this for an owner's first email
        coalesce(leads.acquired_at >= {{ dbt.dateadd('day', -1, cutoff_utc()) }}, false)
            or coalesce(leads.owner_assigned_at > {{ dbt.dateadd('day', -1, cutoff_utc()) }}, false)
            as is_new,
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
        cast(items.days_past_due as integer) as days_past_due,
        items.due_basis,
        cast(items.contact_days as integer) as contact_days,
        items.grade_due_at,
        items.waiting_since,
        cast(case when items.waiting_since is not null
                  then {{ dbt.datediff('items.waiting_since', cutoff_utc(), 'hour') }} end as integer)
            as hours_waiting,
        case when items.item_type = 'grade_lead' then leads.routing_unassigned_reason end
            as routing_unassigned_reason,
        items.missing_fields,
        items.survey_due_on,
        items.report_due_on,
        items.greeting_due_on,
        items.greeting_occasion,
        items.content_kind,
        items.last_content_on,
        -- R6: the plan and the goal of the next follow-up, on follow-up items
        case when items.item_type in ('overdue', 'due_today', 'no_plan') then leads.plan_text end
            as plan_text,
        case when items.item_type in ('overdue', 'due_today', 'no_plan')
             then leads.next_follow_up_number end as follow_up_number,
        case when items.item_type in ('overdue', 'due_today', 'no_plan')
             then leads.next_goal_source end as goal_source,
        case when items.item_type in ('overdue', 'due_today', 'no_plan')
             and leads.next_goal_source = 'seed' then leads.next_goal_code end as goal_code,
        case when items.item_type in ('overdue', 'due_today', 'no_plan')
             and leads.next_goal_source = 'plan' then leads.plan_goal end as plan_goal,
        items.record_id,
        items.record_at,
        items.record_channel,
        items.feedback,
        items.vague_reason,
        item_types.sort_order as item_sort_order
    from items
    inner join leads on leads.lead_key = items.lead_key
    left join {{ ref('dim_owners') }} as owners on owners.owner_name = leads.owner_name
    -- R7: the rep who wrote the record makes it specific, when the directory has them active
    left join {{ ref('dim_owners') }} as writers
        on writers.owner_name = items.record_actor
       and writers.is_active
       and writers.owner_name <> '{{ var("fallback_owner") }}'
    left join {{ ref('accepted_values') }} as item_types
        on item_types.field_name = 'item_type' and item_types.value = items.item_type
)

select
    as_of, owner_name, owner_email, owner_language, lead_key, item_type, is_new,
    company, person_name, title, phone, email, grade, last_touch_at, next_action, next_due,
    days_overdue,
    cast(row_number() over (
        partition by owner_name
        order by case when item_type = 'overdue' and grade = 'A' then 0 else 1 end,
                 days_past_due desc nulls last, item_sort_order, grade nulls last, next_due nulls last,
                 lead_key, record_id nulls first
    ) as integer) as priority,
    days_past_due, due_basis, contact_days, grade_due_at, waiting_since, hours_waiting,
    routing_unassigned_reason, missing_fields, survey_due_on, report_due_on, greeting_due_on,
    greeting_occasion, content_kind, last_content_on, plan_text, follow_up_number, goal_source,
    goal_code, plan_goal, record_id, record_at, record_channel, feedback, vague_reason
from enriched
