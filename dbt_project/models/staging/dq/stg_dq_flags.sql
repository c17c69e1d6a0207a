{{ config(materialized='view') }}
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
