-- Care and nurture actions (R9, R10) before the cut-off that resolved to one lead (C3).
-- Grain: one row per care-action record.
select
    care.source_record_id as care_action_id,
    care.lead_key,
    care.resolved_by,
    care.acted_at,
    care.acted_on,
    care.care_type,
    types.care_stream,
    care.note,
    care.actor_name,
    care.channel,
    care.file_name,
    care.source_row_number
from {{ ref('int_care_actions') }} as care
left join {{ ref('care_action_types') }} as types on types.care_type = care.care_type
where care.resolution_status = 'resolved' and care.restates_record_id is null
