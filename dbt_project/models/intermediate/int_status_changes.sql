{{ lead_incremental_config(with_unresolved=true) }}
-- Status changes visible at the cut-off (C4: changed_at before it, or timeless), with the lead they
-- resolve to (C3). Grain: one row per status record; unresolved ones are kept (lead_key NULL).
{{ visible_activities('stg_status_changes', 'status', 'changed_at', 'changed_on') }}
