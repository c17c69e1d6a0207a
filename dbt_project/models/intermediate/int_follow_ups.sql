{{ lead_incremental_config(with_unresolved=true) }}
-- Follow-ups visible at the cut-off (C4: contacted_at before it, or timeless), with the lead they
-- resolve to (C3). Grain: one row per follow_up record; unresolved ones are kept (lead_key NULL).
-- restates_record_id: the timed record a date-only sheet line restates (see restatements()).
-- NOT MATERIALIZED (issue 8): the restatement join reads a few narrow columns; materialising the
-- wide rows once for three readers spilled under the memory limit.
with visible as not materialized (
    {{ visible_activities('stg_follow_ups', 'follow_up', 'contacted_at', 'contacted_on') }}
),

restated as (
    {{ restatements('visible', 'contacted_at', 'contacted_on', 'follow_up_channel') }}
)

select visible.*, restated.restates_record_id
from visible
left join restated on restated.source_record_id = visible.source_record_id
