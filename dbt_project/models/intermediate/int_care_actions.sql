{{ lead_incremental_config(with_unresolved=true) }}
-- Care actions visible at the cut-off (C4: acted_at before it, or timeless), with the lead they
-- resolve to (C3). Grain: one row per care_action record; unresolved ones are kept (lead_key NULL).
-- restates_record_id: the timed record a date-only sheet line restates (see restatements()).
-- NOT MATERIALIZED (issue 8): the restatement join reads a few narrow columns; materialising the
-- wide rows once for three readers spilled under the memory limit.
with visible as not materialized (
    {{ visible_activities('stg_care_actions', 'care_action', 'acted_at', 'acted_on') }}
),

restated as (
    {{ restatements('visible', 'acted_at', 'acted_on', 'care_type') }}
)

select visible.*, restated.restates_record_id
from visible
left join restated on restated.source_record_id = visible.source_record_id
