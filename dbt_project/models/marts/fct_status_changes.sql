-- Status records (R8) before the cut-off that resolved to one lead, with the status they
-- replaced and when the lead left the new status (C8). Grain: one row per status record; a record
-- whose status was not recognised stays (status NULL) but takes no part in the history.
select
    changes.source_record_id as status_change_id,
    changes.lead_key,
    changes.changed_at,
    changes.changed_on,
    changes.status,
    events.previous_status,
    events.event_at as entered_at,
    events.exited_at,
    coalesce(events.is_current, false) as is_current,
    changes.lost_reason,
    changes.deal_value,
    changes.actor_name,
    changes.channel,
    changes.file_name,
    changes.source_row_number
from {{ ref('int_status_changes') }} as changes
left join {{ ref('int_lead_status_events') }} as events
    on events.source_record_id = changes.source_record_id
   and events.entity = 'status'
where changes.resolution_status = 'resolved'
