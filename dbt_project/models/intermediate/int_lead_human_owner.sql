-- Latest human owner assignment of every lead before the cut-off (C5). Grain: one row per lead
-- that has one. Human assignments are intake records' owner_name (sheet 负责人, booth rep); the
-- person on a follow-up or status record is who did it, not the owner. Latest = latest event
-- time (timeless records are the oldest), then the latest load. Routing (int_lead_routing) only
-- assigns leads without one; int_lead_owner decides between the two.
select lead_key, owner_name, assigned_at, source_record_id, file_name
from (
    select
        lead_key,
        owner_name,
        event_at as assigned_at,
        source_record_id,
        file_name,
        row_number() over (
            partition by lead_key
            order by {{ newest_first("event_at") }}
        ) as assignment_rank
    from {{ ref('int_lead_intake_records') }}
    where owner_name is not null
) as ranked
where assignment_rank = 1
