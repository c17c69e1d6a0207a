-- Follow-up records (R7): latest version of each source_record_id. owner_name is who did it (C5).
{{ staging_incremental_config() }}
with raw_rows as (
    {{ versions_to_build(source('raw', 'follow_up_records')) }}
),

latest as (
    {{ latest_versions('raw_rows') }}
)

select
    {{ stg_lineage_columns() }},
    {{ stg_party_columns() }},
    contacted_at,
    contacted_at_is_date_only,
    {{ accepted_or_null('follow_up_channel', 'follow_up_channel') }} as follow_up_channel,
    responded,
    opened,
    feedback,
    objection,
    {{ blank_to_null('next_action') }} as next_action,
    next_action_due,
    {{ blank_to_null('owner_name') }} as actor_name,
    logged_at,
    logged_at_is_date_only,
    {{ stg_grade_columns() }}
from latest
