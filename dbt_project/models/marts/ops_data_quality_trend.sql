-- The data-quality trend over runs (C6): what each validation run found, per channel and check,
-- so ops can see whether an export is getting better or worse. Grain: run x channel x check x
-- severity. A run validates only the batches that were new to it, so these are new problems.
select
    run_id,
    as_of,
    min(flagged_at) as validated_at,
    channel,
    check_name,
    severity,
    count(*) as flags,
    count(distinct file_name || ':' || cast(coalesce(row_number, -1) as {{ dbt.type_string() }}))
        as flagged_rows,
    count(distinct file_name) as files
from {{ ref('stg_dq_flags') }}
group by run_id, as_of, channel, check_name, severity
