-- The overdue backlog at the end of every reporting period (R5, R6, C8 "Overdue days", R11): for
-- each period and each lead that was open and graded at the period's end, its next due date as
-- a run for that end date would have computed it, and whether it was overdue.
--   open at the end: acquired before it, not won before it, not lost before it
--   next due:        the agreed next-action date of the latest follow-up before the end (R6),
--                    else last touch date (else acquisition) + contact days of the grade
-- Simplification: the lead's grade is its current grade when it was graded before the end (or
-- its grade time is unknown); a grade change within the trend is not replayed.
-- Grain: one row per period kind, period_start and lead overdue at that period's end.
-- Incremental (issue 17, macros/lead_increments.sql): the periods end on or before as_of, so a
-- lead's rows change only with its records or when as_of enters a new week or month; a build
-- computes the changed leads, and every lead for a period the table holds no row of.
{{ period_incremental_config() }}
with periods as (
    select
        period_kind, period_index, period_start, period_end,
        {{ period_is_new('report_periods') }} as is_new_period
    from {{ ref('int_report_periods') }} as report_periods
),

leads as (
    select
        profile.lead_key,
        profile.acquired_on,
        status.first_won_on,
        status.is_lost or status.is_churned as is_closed_lost,
        {{ business_date('status.status_changed_at') }} as status_changed_on,
        grades.grade,
        {{ business_date('grades.first_graded_at') }} as first_graded_on,
        cadence.contact_days
    from {{ ref('int_lead_profile') }} as profile
    inner join {{ ref('int_lead_status') }} as status on status.lead_key = profile.lead_key
    inner join {{ ref('int_lead_grades') }} as grades on grades.lead_key = profile.lead_key
    inner join {{ ref('cadence_by_grade') }} as cadence on cadence.grade = grades.grade
    where profile.acquired_on is not null
),

open_at_end as (
    select periods.*, leads.*
    from leads
    inner join periods on leads.acquired_on < periods.period_end
    where (leads.first_won_on is null or leads.first_won_on >= periods.period_end)
      -- lost before the end; a timeless lost status is visible at every date (C2)
      and not (leads.is_closed_lost and (leads.status_changed_on is null
                                         or leads.status_changed_on < periods.period_end))
      and (leads.first_graded_on is null or leads.first_graded_on < periods.period_end)
      and (periods.is_new_period or {{ touched('leads.lead_key') }})
),

follow_ups as (
    -- only the follow-ups of leads open at the period's end: the rest are never overdue
    select
        open_at_end.period_kind,
        open_at_end.period_start,
        follow_ups.lead_key,
        follow_ups.contacted_on,
        follow_ups.next_action_due,
        row_number() over (
            partition by open_at_end.period_kind, open_at_end.period_start, follow_ups.lead_key
            order by follow_ups.contacted_at desc nulls last, follow_ups.logged_at desc nulls last,
                     follow_ups.loaded_at desc, follow_ups.source_record_id desc
        ) as recency_rank
    from {{ ref('int_follow_ups') }} as follow_ups
    inner join open_at_end
        on open_at_end.lead_key = follow_ups.lead_key
       and (follow_ups.contacted_on is null or follow_ups.contacted_on < open_at_end.period_end)
    where follow_ups.resolution_status = 'resolved' and follow_ups.restates_record_id is null
),

touches as (
    select
        period_kind,
        period_start,
        lead_key,
        max(contacted_on) as last_touch_on,
        max(case when recency_rank = 1 then next_action_due end) as next_action_due
    from follow_ups
    group by period_kind, period_start, lead_key
),

due as (
    select
        open_at_end.period_kind,
        open_at_end.period_index,
        open_at_end.period_start,
        open_at_end.period_end,
        open_at_end.lead_key,
        open_at_end.grade,
        coalesce(
            touches.next_action_due,
            {{ add_days('open_at_end.contact_days', 'coalesce(touches.last_touch_on, open_at_end.acquired_on)') }}
        ) as next_due
    from open_at_end
    left join touches
        on touches.period_kind = open_at_end.period_kind
       and touches.period_start = open_at_end.period_start
       and touches.lead_key = open_at_end.lead_key
)

select
    due.*,
    {{ days_between('due.next_due', 'due.period_end') }} as days_overdue
from due
where due.next_due < due.period_end
