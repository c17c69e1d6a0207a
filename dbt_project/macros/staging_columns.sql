{#- Column groups shared by the canonical raw tables (ingest/canonical.py): one place to rename. -#}

{% macro stg_lineage_columns() -%}
    source_record_id,
    record_hash,
    channel,
    {{ blank_to_null('id_namespace') }} as id_namespace,
    {{ blank_to_null('export_id') }} as export_id,
    file_name,
    file_sha256,
    row_number as source_row_number,
    sheet as source_sheet,
    parent_record_id,
    load_id,
    loaded_at
{%- endmacro %}

{# How a record names a person or its lead (C3). Blank keys become NULL so they never match. #}
{% macro stg_party_columns() -%}
    {{ blank_to_null('lead_ref') }} as lead_ref,
    {{ blank_to_null('company') }} as company,
    {{ blank_to_null('company_key') }} as company_key,
    {{ blank_to_null('industry') }} as industry,
    {{ blank_to_null('person_name') }} as person_name,
    {{ blank_to_null('person_key') }} as person_key,
    coalesce(person_name_is_full, false) as person_name_is_full,
    {{ blank_to_null('title') }} as title,
    {{ blank_to_null('phone') }} as phone,
    coalesce(phone_valid, false) as phone_valid,
    phone_kind,
    coalesce(phone_masked, false) as phone_masked,
    {{ blank_to_null('email') }} as email,
    coalesce(email_valid, false) as email_valid,
    {{ blank_to_null('email_domain') }} as email_domain,
    coalesce(email_is_free, false) as email_is_free
{%- endmacro %}

{# Optional grade facts on any intake or activity record (C7). #}
{% macro stg_grade_columns() -%}
    {{ accepted_or_null('grade', 'grade') }} as grade,
    graded_at,
    graded_at_is_date_only,
    budget_confirmed,
    budget_amount,
    decision_within_days,
    decision_chain_known,
    lower({{ blank_to_null('need_clarity') }}) as need_clarity
{%- endmacro %}
