-- Status changes visible at the cut-off (C4: changed_at before it, or timeless), with the lead they resolve to
-- (C3). Grain: one row per status record; unresolved ones are kept (lead_key NULL).
select
    resolution.lead_key,
    resolution.resolution_status,
    resolution.resolved_by,
    resolution.candidate_lead_keys,
    activity.*,
    {{ business_date('activity.changed_at') }} as changed_on
from {{ ref('stg_status_changes') }} as activity
inner join {{ ref('int_activity_resolution') }} as resolution
    on resolution.entity = 'status'
   and resolution.source_record_id = activity.source_record_id
where {{ visible_at_cutoff('activity.changed_at') }}
