-- Care-action records (R9, R10): latest version of each source_record_id.
{{ staging_incremental_config() }}
with raw_rows as (
    {{ versions_to_build(source('raw', 'care_action_records')) }}
),

latest as (
    {{ latest_versions('raw_rows') }}
)

select
    {{ stg_lineage_columns() }},
    {{ stg_party_columns() }},
    acted_at,
    acted_at_is_date_only,
    {{ accepted_or_null('care_type', 'care_type') }} as care_type,
    note,
    {{ blank_to_null('owner_name') }} as actor_name
from latest
