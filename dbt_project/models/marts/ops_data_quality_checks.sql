-- Flags by check per channel and file (C6), for BI drill-down. Grain: channel x file x check x
-- severity. Flags are de-duplicated across validation runs.
with flags as (
    select distinct
        channel, file_name, row_number, source_record_id, record_hash, column_name, check_name,
        severity
    from {{ ref('stg_dq_flags') }}
)

select
    channel,
    file_name,
    check_name,
    severity,
    count(*) as flags,
    count(distinct row_number) as flagged_rows,
    {{ dbt.listagg('distinct column_name', "', '", 'order by column_name') }} as columns
from flags
group by channel, file_name, check_name, severity
