-- Status records (R8): latest version of each source_record_id. owner_name is who did it (C5).
with latest as (
    {{ latest_versions(source('raw', 'status_records')) }}
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
