-- Care-action records (R9, R10): latest version of each source_record_id.
with latest as (
    {{ latest_versions(source('raw', 'care_action_records')) }}
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
