-- Every status a lead was seen in before the cut-off (C8, R8): status records, plus the status
-- column of intake records (the sheet's 当前状态). Grain: one row per source record with a status.
-- Timeless observations order first (oldest): a dated change always supersedes them.
with observations as (
    select
        lead_key, 'status' as entity, source_record_id, changed_at as event_at, status,
        lost_reason, deal_value, loaded_at, load_id, source_row_number
    from {{ ref('int_status_changes') }}
    where resolution_status = 'resolved' and status is not null

    union all

    select
        lead_key, 'intake', source_record_id, event_at, status,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ type_double() }}),
        loaded_at, load_id, source_row_number
    from {{ ref('int_lead_intake_records') }}
    where status is not null
),

ordered as (
    select
        observations.*,
        row_number() over (
            partition by lead_key
            order by event_at asc nulls first, loaded_at asc, load_id asc, source_row_number asc,
                     source_record_id asc
        ) as status_sequence
    from observations
)

select
    ordered.*,
    lag(status) over (partition by lead_key order by status_sequence) as previous_status,
    -- the time the lead left this status (the next observation's time), NULL while current
    lead(event_at) over (partition by lead_key order by status_sequence) as exited_at,
    status_sequence = count(*) over (partition by lead_key) as is_current
from ordered
