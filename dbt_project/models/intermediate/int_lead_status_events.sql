{{ lead_incremental_config() }}
-- Every status a lead was seen in before the cut-off (C8, R8): status records, plus the status
-- column of intake records (the sheet's 当前状态). Grain: one row per source record with a status.
-- A status on an intake row is an observation of that row, not an event at acquisition (C8): its
-- time is the row's status_at, else closed_at for won / lost, else it is timeless. Timeless
-- observations order first (oldest): a dated change always supersedes them.
with observations as (
    select
        lead_key, 'status' as entity, source_record_id, changed_at as event_at, status,
        lost_reason, deal_value, loaded_at, load_id, source_row_number
    from {{ ref('int_status_changes') }}
    where resolution_status = 'resolved' and status is not null and {{ touched('lead_key') }}

    union all

    select
        lead_key, 'intake', source_record_id, observed_at, status, lost_reason, deal_value,
        loaded_at, load_id, source_row_number
    from (
        select
            intake.*,
            coalesce(
                status_at, case when status in ('won', 'lost') then closed_at end
            ) as observed_at
        from {{ ref('int_lead_intake_records') }} as intake
        where status is not null and {{ touched('intake.lead_key') }}
    ) as observed
    where {{ visible_at_cutoff('observed_at') }}
),

ordered as (
    select
        observations.*,
        row_number() over (
            partition by lead_key
            order by {{ oldest_first('event_at') }}
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
