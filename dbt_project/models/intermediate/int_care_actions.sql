-- Care actions visible at the cut-off (C4: acted_at before it, or timeless), with the lead they resolve to
-- (C3). Grain: one row per care_action record; unresolved ones are kept (lead_key NULL).
-- restates_record_id: the timed record a date-only sheet line restates (see restatements()).
with visible as (
select
    resolution.lead_key,
    resolution.resolution_status,
    resolution.resolved_by,
    resolution.candidate_lead_keys,
    activity.*,
    {{ business_date('activity.acted_at') }} as acted_on
from {{ ref('stg_care_actions') }} as activity
inner join {{ ref('int_activity_resolution') }} as resolution
    on resolution.entity = 'care_action'
   and resolution.source_record_id = activity.source_record_id
where {{ visible_at_cutoff('activity.acted_at') }}
),

restated as (
    {{ restatements('visible', 'acted_at', 'acted_on', 'care_type') }}
)

select visible.*, restated.restates_record_id
from visible
left join restated on restated.source_record_id = visible.source_record_id
