-- Intake records (C1): latest version of each source_record_id, renamed and cast only.
{{ staging_incremental_config() }}
with raw_rows as (
    {{ versions_to_build(source('raw', 'intake_records')) }}
),

latest as (
    {{ latest_versions('raw_rows') }}
)

select
    {{ stg_lineage_columns() }},
    event_at,
    event_at_is_date_only,
    {{ blank_to_null('source_label') }} as source_label,
    utm_source,
    utm_medium,
    utm_campaign,
    {{ stg_party_columns() }},
    {{ blank_to_null('city') }} as city,
    {{ blank_to_null('province') }} as province,
    {{ blank_to_null('company_size') }} as company_size,
    {{ blank_to_null('need') }} as need,
    {{ blank_to_null('background') }} as background,
    {{ blank_to_null('plan_text') }} as plan_text,
    follow_up_text,
    care_text,
    {{ blank_to_null('tags') }} as tags,
    {{ blank_to_null('notes') }} as notes,
    {{ blank_to_null('first_responder') }} as first_responder,
    {{ accepted_or_null('status', 'status') }} as status,
    status_at,
    closed_at,
    {{ blank_to_null('lost_reason') }} as lost_reason,
    deal_value,
    {{ blank_to_null('owner_name') }} as owner_name,
    {{ stg_grade_columns() }}
from latest
