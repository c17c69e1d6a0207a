-- Deal cycle of every won lead with a known acquisition (C8): business days from acquisition to
-- the first win, with the grade the lead had when it was won (latest manual grade timed at or
-- before the win, else its current grade). Grain: one row per won lead.
with won as (
    select
        profile.lead_key,
        profile.source_label,
        profile.acquired_at,
        profile.acquired_on,
        status.first_won_at,
        status.first_won_on,
        grades.grade
    from {{ ref('int_lead_profile') }} as profile
    inner join {{ ref('int_lead_status') }} as status on status.lead_key = profile.lead_key
    left join {{ ref('int_lead_grades') }} as grades on grades.lead_key = profile.lead_key
    where status.is_won and profile.acquired_on is not null and status.first_won_on is not null
),

grade_at_win as (
    select lead_key, grade
    from (
        select
            events.lead_key,
            events.grade,
            row_number() over (
                partition by events.lead_key
                order by events.grade_at desc, events.loaded_at desc, events.source_record_id desc
            ) as grade_rank
        from {{ ref('int_lead_grade_events') }} as events
        inner join won on won.lead_key = events.lead_key
        where events.has_manual_grade and events.grade_at <= won.first_won_at
    ) as ranked
    where grade_rank = 1
)

select
    won.lead_key,
    won.source_label,
    coalesce(grade_at_win.grade, won.grade) as grade_at_win,
    won.acquired_on,
    won.first_won_on,
    {{ days_between('won.acquired_on', 'won.first_won_on') }} as cycle_days
from won
left join grade_at_win on grade_at_win.lead_key = won.lead_key
