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

cadence as (
    select * from {{ ref('int_lead_cadence') }}
),

-- R9's three care streams side by side: one care_due row per customer names each action due
care_due as (
    select
        lead_key,
        min(due_by) as due_by,
        max(case when care_stream = 'survey' then due_by end) as survey_due_on,
        max(case when care_stream = 'report' then due_by end) as report_due_on,
        max(case when care_stream = 'greeting' then due_by end) as greeting_due_on,
        max(case when care_stream = 'greeting' then occasion end) as greeting_occasion
    from {{ ref('int_customer_care_due') }}
    group by lead_key
),

-- follow-up items (C8): the contact stream's next due, agreed (R6) or from the grade's cadence
follow_ups as (
    select
        lead_key,
        case when is_overdue then 'overdue' else 'due_today' end as item_type,
        case when next_action_due is not null then 'agreed' else 'cadence' end as due_basis,
        contact_days,
        next_due,
        days_overdue
    from cadence
    where is_overdue or is_due_today

    union all

    -- the latest follow-up agreed no next step (R6): its cadence date stands
    select lead_key, 'no_plan', 'cadence', contact_days, next_due, days_overdue
    from cadence
    where is_no_plan
),

items as (
    select
        lead_key, item_type, due_basis, contact_days, next_due,
        days_overdue,
        days_overdue as days_past_due,
        cast(null as timestamp) as grade_due_at,
        cast(null as timestamp) as waiting_since,
        cast(null as date) as survey_due_on,
        cast(null as date) as report_due_on,
        cast(null as date) as greeting_due_on,
        cast(null as {{ dbt.type_string() }}) as greeting_occasion,
        cast(null as {{ dbt.type_string() }}) as content_kind,
        cast(null as date) as last_content_on,
        cast(null as {{ dbt.type_string() }}) as missing_fields,
        cast(null as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as record_actor,
        cast(null as timestamp) as record_at,
        cast(null as {{ dbt.type_string() }}) as record_channel,
        cast(null as {{ dbt.type_string() }}) as feedback,
        cast(null as {{ dbt.type_string() }}) as vague_reason
    from follow_ups

    union all

    -- R10: non-sales content for open leads whose grade has a content stream
    select
        cadence.lead_key, 'nurture_due', null, null, cadence.next_content_due,
        null,
        case when cadence.next_content_due < {{ as_of_date() }}
             then {{ days_between('cadence.next_content_due', as_of_date()) }} else 0 end,
        null, null, null, null, null, null,
        grade_content.content_kind,
        cadence.last_content_on,
        null, null, null, null, null, null, null
    from cadence
    left join {{ ref('cadence_by_grade') }} as grade_content on grade_content.grade = cadence.grade
    where cadence.is_nurture_due

    union all

    -- C7: ungraded open leads, due grading_sla_hours after acquisition (R3); waiting since then
    select
        lead_key, 'grade_lead', null, null, grade_due_on,
        null,
        case when grade_due_on < {{ as_of_date() }}
             then {{ days_between('grade_due_on', as_of_date()) }} else 0 end,
        grade_due_at,
        acquired_at,
        null, null, null, null, null, null, null,
        null, null, null, null, null, null
    from cadence
    where is_open and grade is null

    union all

    -- C6: what makes the record incomplete, waiting since acquisition
    select
        lead_key, 'complete_record', null, null, null,
        null, null, null,
        acquired_at,
        null, null, null, null, null, null,
        missing_fields,
        null, null, null, null, null, null
    from leads
    where missing_fields is not null and (is_open or is_customer)

    union all

    -- R9: each care action due this period, with its own due date
    select
        lead_key, 'care_due', null, null, due_by,
        null,
        case when due_by < {{ as_of_date() }} then {{ days_between('due_by', as_of_date()) }} else 0 end,
        null, null,
        survey_due_on, report_due_on, greeting_due_on, greeting_occasion,
        null, null, null,
        null, null, null, null, null, null
    from care_due

    union all

    -- R7: each recent follow-up whose record is not specific, for the rep who wrote it
    select
        lead_key, 'specify_record', null, null, null,
        null, null, null,
        contacted_at,
        null, null, null, null, null, null, null,
        follow_up_id, actor_name, contacted_at, follow_up_channel, feedback, vague_reason
    from {{ ref('int_follow_up_specificity') }}
    where not is_specific
      and contacted_on >= {{ dbt.dateadd('day', -var('specify_record_item_days'), as_of_date()) }}
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
