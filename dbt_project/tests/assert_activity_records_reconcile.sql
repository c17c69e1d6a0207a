-- Reconciliation (C1/C3): every activity record visible at the cut-off is a fact row, a listed
-- reference issue (orphan / ambiguous) or a sheet line restating a fact row, never dropped
-- (stg_* = the latest version of each raw record).
{{ config(severity='error') }}
with counts as (
    select 'follow_up' as entity,
        (select count(*) from {{ ref('stg_follow_ups') }} where {{ visible_at_cutoff('contacted_at') }}) as raw_records,
        (select count(*) from {{ ref('fct_follow_ups') }}) as fact_rows
    union all
    select 'status',
        (select count(*) from {{ ref('stg_status_changes') }} where {{ visible_at_cutoff('changed_at') }}),
        (select count(*) from {{ ref('fct_status_changes') }})
    union all
    select 'care_action',
        (select count(*) from {{ ref('stg_care_actions') }} where {{ visible_at_cutoff('acted_at') }}),
        (select count(*) from {{ ref('fct_care_actions') }})
),

issues as (
    select entity, count(*) as issue_rows
    from {{ ref('ops_activity_reference_issues') }}
    group by entity
),

restated as (
    select 'follow_up' as entity, count(*) as restated_rows
    from {{ ref('int_follow_ups') }} where restates_record_id is not null
    union all
    select 'care_action', count(*)
    from {{ ref('int_care_actions') }} where restates_record_id is not null
)

select counts.*, coalesce(issues.issue_rows, 0) as issue_rows,
    coalesce(restated.restated_rows, 0) as restated_rows
from counts
left join issues on issues.entity = counts.entity
left join restated on restated.entity = counts.entity
where counts.raw_records
    <> counts.fact_rows + coalesce(issues.issue_rows, 0) + coalesce(restated.restated_rows, 0)
