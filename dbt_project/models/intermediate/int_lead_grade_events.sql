{{ lead_incremental_config() }}
-- Every record carrying a grade or grade facts (C7) before the cut-off, on any intake or activity
-- record. Grain: one row per source record. grade_at = graded_at, else the event time of an
-- activity record; a grade on an intake row (a sheet's 客户等级) is an observation, not an event at
-- acquisition (C7): without a mapped graded_at its time is unknown (NULL, timeless).
{% set grade_cols = 'grade, graded_at, budget_confirmed, budget_amount, decision_within_days, decision_chain_known, need_clarity, loaded_at, load_id, source_row_number' %}
with records as (
    select
        lead_key, 'intake' as entity, source_record_id,
        cast(null as {{ dbt.type_timestamp() }}) as event_at, {{ grade_cols }}
    from {{ ref('int_lead_intake_records') }}

    union all

    select lead_key, 'follow_up', source_record_id, contacted_at, {{ grade_cols }}
    from {{ ref('int_follow_ups') }}
    where resolution_status = 'resolved'

    union all

    select lead_key, 'status', source_record_id, changed_at, {{ grade_cols }}
    from {{ ref('int_status_changes') }}
    where resolution_status = 'resolved'
)

select
    records.*,
    coalesce(graded_at, event_at) as grade_at,
    grade is not null as has_manual_grade,
    (budget_confirmed is not null or budget_amount is not null or decision_within_days is not null
     or decision_chain_known is not null or need_clarity is not null) as has_grade_facts
from records
-- a graded_at after the cut-off is not known yet at as_of
where (grade is not null or budget_confirmed is not null or budget_amount is not null
       or decision_within_days is not null or decision_chain_known is not null
       or need_clarity is not null)
  and {{ visible_at_cutoff('coalesce(graded_at, event_at)') }}
  and {{ touched('records.lead_key') }}
