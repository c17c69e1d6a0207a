-- Status records (R8): latest version of each source_record_id. owner_name is who did it (C5).
{{ staging_incremental_config() }}
with raw_rows as (
    {{ versions_to_build(source('raw', 'status_records')) }}
),

latest as (
    {{ latest_versions('raw_rows') }}
)

select
    {{ stg_lineage_columns() }},
    {{ stg_party_columns() }},
    changed_at,
    changed_at_is_date_only,
    {{ accepted_or_null('status', 'status') }} as status,
    {{ blank_to_null('lost_reason') }} as lost_reason,
    deal_value,
    {{ blank_to_null('owner_name') }} as actor_name,
    {{ stg_grade_columns() }}
from latest
