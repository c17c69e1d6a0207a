{{ lead_incremental_config() }}
-- Grade, tag and plan changes of every lead (R8): one row per change, so "which leads were
-- upgraded to A this month" is one query (change_type = 'grade', value_after = 'A',
-- observed_on in the month). Each change names the record that brought it (lineage, C1).
--   grade: manual grades (C7) on any record, in grade-time order (timeless first, then load
--          order); a row when the grade differs from the lead's previous one (the first grade
--          is a change from NULL). observed_at = the grade time (graded_at, else the event time
--          of the follow-up or status record, C7); NULL when unknown.
--   tag_added / tag_removed: between a lead's consecutive tagged intake records (the order of
--          int_lead_tag_observations); the first record's tags are all added.
--   plan:  the plan text (R6) differs from the lead's previous plan.
-- A tag or plan on an intake row is an observation without a time of its own (C8): observed_at
-- is NULL for them, and they order before dated changes.
-- Incremental by lead (issue 17, macros/lead_increments.sql); fct_lead_changes is its copy.
with grade_events as (
    select
        lead_key, entity, source_record_id, grade, grade_at, loaded_at, load_id,
        source_row_number,
        lag(grade) over (
            partition by lead_key
            order by {{ oldest_first('grade_at') }}
        ) as previous_grade
    from {{ ref('int_lead_grade_events') }}
    where has_manual_grade and {{ touched('lead_key') }}
),

plans as (
    select
        lead_key, source_record_id, plan_text, file_name, source_row_number, source_sheet,
        loaded_at,
        lag(plan_text) over (
            partition by lead_key
            order by {{ oldest_first('event_at') }}
        ) as previous_plan
    from {{ ref('int_lead_intake_records') }}
    where plan_text is not null and {{ touched('lead_key') }}
),

tags as (
    select * from {{ ref('int_lead_tag_observations') }} where {{ touched('lead_key') }}
),

records as (
    -- lineage of the records a grade can come from
    {{ record_lineage(['int_lead_intake_records', 'int_follow_ups', 'int_status_changes']) }}
),

changes as (
    select
        grade_events.lead_key,
        'grade' as change_type,
        grade_events.grade_at as observed_at,
        grade_events.previous_grade as value_before,
        grade_events.grade as value_after,
        grade_events.entity as source_entity,
        grade_events.source_record_id,
        grade_events.loaded_at
    from grade_events
    where grade_events.previous_grade is null or grade_events.previous_grade <> grade_events.grade

    union all

    select
        tags.lead_key, 'tag_added', cast(null as {{ dbt.type_timestamp() }}), null, tags.tag,
        'intake', tags.source_record_id, tags.loaded_at
    from tags
    where not exists (
        select 1 from tags as earlier
        where earlier.lead_key = tags.lead_key
          and earlier.record_sequence = tags.record_sequence - 1
          and earlier.tag = tags.tag
    )

    union all

    select
        later.lead_key, 'tag_removed', cast(null as {{ dbt.type_timestamp() }}), tags.tag, null,
        'intake', later.source_record_id, later.loaded_at
    from tags
    inner join (
        select distinct lead_key, source_record_id, record_sequence, loaded_at from tags
    ) as later
        on later.lead_key = tags.lead_key and later.record_sequence = tags.record_sequence + 1
    where not exists (
        select 1 from tags as kept
        where kept.lead_key = later.lead_key
          and kept.record_sequence = later.record_sequence
          and kept.tag = tags.tag
    )

    union all

    select
        lead_key, 'plan', cast(null as {{ dbt.type_timestamp() }}), previous_plan, plan_text,
        'intake', source_record_id, loaded_at
    from plans
    where previous_plan is null or previous_plan <> plan_text
)

select
    changes.lead_key,
    changes.change_type,
    changes.observed_at,
    {{ business_date('changes.observed_at') }} as observed_on,
    changes.value_before,
    changes.value_after,
    -- grades order A > B > C: an upgrade raises it (a first grade is neither)
    case when changes.change_type = 'grade' and changes.value_before is not null
         then changes.value_after < changes.value_before end as is_upgrade,
    changes.source_entity,
    changes.source_record_id,
    records.channel,
    records.file_name,
    records.source_row_number,
    records.source_sheet,
    changes.loaded_at
from changes
left join records on records.source_record_id = changes.source_record_id
-- leads visible at the cut-off only (a status record may name a lead acquired after it)
where changes.lead_key in (select lead_key from {{ ref('int_lead_profile') }})
