{{ config(tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- Cadence state of every lead at as_of (C8, R5, R6, R10, C7). Grain: one row per lead.
-- Contact stream (open, graded leads):
--   next_due     = the latest follow-up's agreed next-action date when it has one (R6), else
--                  last touch date (else acquisition date) + contact days of the current grade
--   days_overdue = as_of - next_due when positive; due today when zero
--   no plan      = the latest follow-up has no next action (nor date) and the lead is not overdue
-- Content stream (open leads, grade with content days): satisfied only by a care action of a
--   content type (seed care_action_types), never by a next-action text.
-- Ungraded open leads get no cadence: a grading deadline 24 h after acquisition instead (C7, R3).
with leads as (
    select
        profile.lead_key,
        profile.acquired_at,
        profile.acquired_on,
        status.is_open,
        grades.grade,
        touches.last_touch_at,
        touches.last_touch_on,
        touches.latest_follow_up_id,
        touches.next_action,
        touches.next_action_due
    from {{ ref('int_lead_profile') }} as profile
    inner join {{ ref('int_lead_status') }} as status on status.lead_key = profile.lead_key
    left join {{ ref('int_lead_grades') }} as grades on grades.lead_key = profile.lead_key
    left join {{ ref('int_lead_touches') }} as touches on touches.lead_key = profile.lead_key
),

last_content as (
    select care.lead_key, max(care.acted_on) as last_content_on
    from {{ ref('int_care_actions') }} as care
    inner join {{ ref('care_action_types') }} as types on types.care_type = care.care_type
    where care.resolution_status = 'resolved' and types.care_stream = 'content'
    group by care.lead_key
),

planned as (
    select
        leads.*,
        cadence.contact_days,
        cadence.content_days,
        cadence.content_material,
        last_content.last_content_on,
        case
            when not leads.is_open or leads.grade is null then null
            when leads.next_action_due is not null then leads.next_action_due
            else {{ add_days('cadence.contact_days', 'coalesce(leads.last_touch_on, leads.acquired_on)') }}
        end as next_due,
        case
            when leads.is_open and cadence.content_days is not null
                then {{ add_days('cadence.content_days', 'coalesce(last_content.last_content_on, leads.acquired_on)') }}
        end as next_content_due,
        case
            when leads.is_open and leads.grade is null and leads.acquired_at is not null
                then {{ dbt.dateadd('hour', var('grading_sla_hours'), 'leads.acquired_at') }}
        end as grade_due_at
    from leads
    left join {{ ref('cadence_by_grade') }} as cadence on cadence.grade = leads.grade
    left join last_content on last_content.lead_key = leads.lead_key
)

select
    planned.*,
    {{ business_date('grade_due_at') }} as grade_due_on,
    case
        when next_due < {{ as_of_date() }} then {{ days_between('next_due', as_of_date()) }}
        when next_due is not null then 0
    end as days_overdue,
    coalesce(next_due < {{ as_of_date() }}, false) as is_overdue,
    coalesce(next_due = {{ as_of_date() }}, false) as is_due_today,
    coalesce(
        latest_follow_up_id is not null and next_action is null and next_action_due is null
        and next_due >= {{ as_of_date() }},
        false
    ) as is_no_plan,
    coalesce(next_content_due <= {{ as_of_date() }}, false) as is_nurture_due
from planned
