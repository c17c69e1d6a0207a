-- Follow-ups visible at the cut-off (C4: contacted_at before it, or timeless), with the lead they resolve to
-- (C3). Grain: one row per follow_up record; unresolved ones are kept (lead_key NULL).
-- restates_record_id: the timed record a date-only sheet line restates (see restatements()).
with visible as (
select
    resolution.lead_key,
    resolution.resolution_status,
    resolution.resolved_by,
    resolution.candidate_lead_keys,
    activity.*,
    {{ business_date('activity.contacted_at') }} as contacted_on
from {{ ref('stg_follow_ups') }} as activity
inner join {{ ref('int_activity_resolution') }} as resolution
    on resolution.entity = 'follow_up'
   and resolution.source_record_id = activity.source_record_id
where {{ visible_at_cutoff('activity.contacted_at') }}
),

restated as (
    {{ restatements('visible', 'contacted_at', 'contacted_on', 'follow_up_channel') }}
)

select visible.*, restated.restates_record_id
from visible
left join restated on restated.source_record_id = visible.source_record_id
