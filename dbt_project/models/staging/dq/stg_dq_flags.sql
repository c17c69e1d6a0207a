{{ config(materialized='view', tags=['time_driven']) }}
-- time_driven: validation rewrites the channel freshness flags of each as_of, even when nothing
-- was loaded (expectations/freshness.py), so the marts over flags change with as_of (issue 17).
-- Validation flags (C6) as the lead and data-quality models read them: a view, so the marts see
-- every flag the validation step wrote without a copy. Grain: one row per flag and validation run.
select
    flag_id,
    run_id,
    load_id,
    channel,
    entity,
    source_record_id,
    record_hash,
    file_name,
    row_number,
    column_name,
    check_name,
    observed_value,
    severity,
    as_of,
    flagged_at
from {{ source('dq', 'flags') }}
