-- Data quality per channel and file (C1, C6). Grain: one row per loaded file (channel, file name,
-- SHA-256). Load bookkeeping from raw.load_manifest; rows landed counted independently from the
-- raw tables; flags from dq.flags, de-duplicated across validation runs.
with manifest as (
    select
        channel, entity, file_name, file_sha256,
        cast(sum(rows_in_file) as {{ dbt.type_bigint() }}) as rows_in_file,
        cast(sum(records_added) as {{ dbt.type_bigint() }}) as records_added,
        cast(sum(rows_already_loaded) as {{ dbt.type_bigint() }}) as rows_already_loaded,
        cast(sum(rows_quarantined) as {{ dbt.type_bigint() }}) as rows_quarantined,
        min(loaded_at) as first_loaded_at,
        max(loaded_at) as last_loaded_at,
        max(status) as status
    from {{ ref('stg_load_manifest') }}
    group by channel, entity, file_name, file_sha256
),

landed as (
    select channel, file_name, file_sha256, sum(rows_landed) as rows_landed
    from {{ ref('stg_landed_rows') }}
    group by channel, file_name, file_sha256
),

flags as (
    select distinct
        channel, file_name, row_number, source_record_id, record_hash, column_name, check_name,
        severity
    from {{ ref('stg_dq_flags') }}
),

flag_counts as (
    select
        channel,
        file_name,
        count(*) as flags,
        count(distinct row_number) as flagged_rows,
        {{ count_if("severity = 'error'") }} as error_flags,
        {{ count_if("severity = 'warning'") }} as warning_flags
    from flags
    group by channel, file_name
),

by_check as (
    select channel, file_name, check_name, count(*) as flags
    from flags
    group by channel, file_name, check_name
),

checks as (
    select
        channel,
        file_name,
        {{ dbt.listagg("check_name || ': ' || cast(flags as " ~ dbt.type_string() ~ ")", "', '", 'order by check_name') }}
            as flags_by_check
    from by_check
    group by channel, file_name
),

files as (
    select channel, file_name, file_sha256 from manifest
    union
    select channel, file_name, file_sha256 from landed
)

select
    files.channel,
    files.file_name,
    files.file_sha256,
    manifest.entity,
    manifest.status,
    manifest.first_loaded_at,
    manifest.last_loaded_at,
    manifest.rows_in_file,
    manifest.records_added,
    manifest.rows_already_loaded,
    manifest.rows_quarantined,
    coalesce(landed.rows_landed, 0) as rows_landed,
    -- flags are keyed by file name (a re-saved file with new content shares them)
    coalesce(flag_counts.flagged_rows, 0) as flagged_rows,
    coalesce(flag_counts.flags, 0) as flags,
    coalesce(flag_counts.error_flags, 0) as error_flags,
    coalesce(flag_counts.warning_flags, 0) as warning_flags,
    checks.flags_by_check
from files
left join manifest
    on manifest.channel = files.channel and manifest.file_name = files.file_name
   and manifest.file_sha256 = files.file_sha256
left join landed
    on landed.channel = files.channel and landed.file_name = files.file_name
   and landed.file_sha256 = files.file_sha256
left join flag_counts on flag_counts.channel = files.channel and flag_counts.file_name = files.file_name
left join checks on checks.channel = files.channel and checks.file_name = files.file_name
