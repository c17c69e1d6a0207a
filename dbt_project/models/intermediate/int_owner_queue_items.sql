{{ config(materialized='view', tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- The items each lead owes at as_of (C8 queue item types), before owners and wording: the
-- sections of ops_owner_queue that read no mart. complete_record (from dim_leads' missing
-- fields), owners, the lead's columns and priority are added there. Only open leads get cadence
-- items (overdue, due today, no plan, nurture) and grading items; customers (won, not churned)
-- get care items. A view: it is read once per build, by ops_owner_queue.
-- Grain: lead_key x item_type x record_id (record_id only on specify_record, R7).
with cadence as (
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
)

-- follow-up items (C8): the contact stream's next due, agreed (R6) or from the grade's cadence
select {{ queue_item({
    'lead_key': 'lead_key',
    'item_type': "case when is_overdue then 'overdue' else 'due_today' end",
    'due_basis': "case when next_action_due is not null then 'agreed' else 'cadence' end",
    'contact_days': 'contact_days', 'next_due': 'next_due',
    'days_overdue': 'days_overdue', 'days_past_due': 'days_overdue',
}) }}
from cadence
where is_overdue or is_due_today

union all

-- the latest follow-up agreed no next step (R6): its cadence date stands
select {{ queue_item({
    'lead_key': 'lead_key', 'item_type': "'no_plan'", 'due_basis': "'cadence'",
    'contact_days': 'contact_days', 'next_due': 'next_due',
    'days_overdue': 'days_overdue', 'days_past_due': 'days_overdue',
}) }}
from cadence
where is_no_plan

union all

-- R10: non-sales content for open leads whose grade has a content stream
select {{ queue_item({
    'lead_key': 'cadence.lead_key', 'item_type': "'nurture_due'",
    'next_due': 'cadence.next_content_due', 'days_past_due': days_past('cadence.next_content_due'),
    'content_kind': 'grade_content.content_kind', 'last_content_on': 'cadence.last_content_on',
}) }}
from cadence
left join {{ ref('cadence_by_grade') }} as grade_content on grade_content.grade = cadence.grade
where cadence.is_nurture_due

union all

-- C7: ungraded open leads, due grading_sla_hours after acquisition (R3); waiting since then
select {{ queue_item({
    'lead_key': 'lead_key', 'item_type': "'grade_lead'",
    'next_due': 'grade_due_on', 'days_past_due': days_past('grade_due_on'),
    'grade_due_at': 'grade_due_at', 'waiting_since': 'acquired_at',
}) }}
from cadence
where is_open and grade is null

union all

-- R9: each care action due this period, with its own due date
select {{ queue_item({
    'lead_key': 'lead_key', 'item_type': "'care_due'",
    'next_due': 'due_by', 'days_past_due': days_past('due_by'),
    'survey_due_on': 'survey_due_on', 'report_due_on': 'report_due_on',
    'greeting_due_on': 'greeting_due_on', 'greeting_occasion': 'greeting_occasion',
}) }}
from care_due

union all

-- R7: each recent follow-up whose record is not specific, for the rep who wrote it
select {{ queue_item({
    'lead_key': 'lead_key', 'item_type': "'specify_record'", 'waiting_since': 'contacted_at',
    'record_id': 'follow_up_id', 'record_actor': 'actor_name', 'record_at': 'contacted_at',
    'record_channel': 'follow_up_channel', 'feedback': 'feedback', 'vague_reason': 'vague_reason',
}) }}
from {{ ref('int_follow_up_specificity') }}
where not is_specific
  and contacted_on >= {{ dbt.dateadd('day', -var('specify_record_item_days'), as_of_date()) }}
