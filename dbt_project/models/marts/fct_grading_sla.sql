{{ config(tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- Grading SLA (R3, C7, C8) of every lead with a known acquisition. Grain: one row per lead.
--   met      first grade time − acquisition ≤ 24 h
--   breached by the excess hours; an ungraded lead only once its deadline is before the cut-off
--            (hours late counted to the cut-off)
--   unknown  graded, but the grade time is unknown (a sheet grade without graded_at, C7) and no
--            dated grade proves the deadline met
--   pending  ungraded and the deadline is not reached yet
-- Leads without a known acquisition are left out (C8).
with leads as (
    select
        lead_key, owner_name, source_label, acquired_at, grade, first_graded_at,
        coalesce(has_untimed_grade, false) as has_untimed_grade,
        {{ dbt.dateadd('hour', var('grading_sla_hours'), 'acquired_at') }} as grading_deadline
    from {{ ref('dim_leads') }}
    where acquired_at is not null
)

select
    lead_key,
    owner_name,
    source_label,
    grade,
    acquired_at,
    grading_deadline,
    first_graded_at,
    case
        when grade is not null and first_graded_at <= grading_deadline then 'met'
        when grade is not null and (first_graded_at is null or has_untimed_grade) then 'unknown'
        when grade is not null then 'breached'
        when grading_deadline < {{ cutoff_utc() }} then 'breached'
        else 'pending'
    end as sla_status,
    case
        when grade is not null and first_graded_at > grading_deadline and not has_untimed_grade
            then {{ dbt.datediff('grading_deadline', 'first_graded_at', 'second') }} / 3600.0
        when grade is null and grading_deadline < {{ cutoff_utc() }}
            then {{ dbt.datediff('grading_deadline', cutoff_utc(), 'second') }} / 3600.0
    end as hours_late
from leads
