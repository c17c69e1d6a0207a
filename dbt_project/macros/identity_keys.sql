{#
  Match keys of records (C3) for int_identity_keys, which applies them to all records (the counts)
  and, in an incremental build, to the records it rebuilds (issue 17).

  identity_records(): the key columns of the four record kinds, one row per record.
  identity_domain_person(records): records a corporate domain + full person name can link, with
    their base key (domain | person key); the key carries the company where records of one base
    name several companies (identity_key_rows).
  identity_key_rows(records, companies): one row per record and key: entity, source_record_id,
    loaded_at, person_key, key_type, key_value, domain_person_base, domain_person_companies;
    `companies` is a
    relation (base_key, company_count) over ALL records, so a subset of records gets the keys a
    computation over everything would give it.
#}
{% macro identity_records() -%}
    {% for entity, model in [('intake', 'stg_intake_records'), ('follow_up', 'stg_follow_ups'),
                             ('status', 'stg_status_changes'), ('care_action', 'stg_care_actions')] %}
    select
        '{{ entity }}' as entity, source_record_id, loaded_at, email, email_valid, email_domain,
        email_is_free, phone, phone_valid, phone_kind, phone_masked, person_key, person_name_is_full,
        company_key
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{%- endmacro %}

{% macro identity_domain_person(records) -%}
    select
        entity, source_record_id, loaded_at, person_key, company_key,
        email_domain || '|' || person_key as base_key
    from {{ records }}
    where email_valid and not email_is_free and email_domain is not null and person_key is not null
      and person_name_is_full
{%- endmacro %}

{% macro identity_key_rows(records, companies) -%}
    select
        entity, source_record_id, loaded_at, person_key, 'email' as key_type, email as key_value,
        cast(null as {{ dbt.type_string() }}) as domain_person_base,
        cast(null as {{ dbt.type_bigint() }}) as domain_person_companies
    from {{ records }}
    where email_valid and email is not null

    union all

    select entity, source_record_id, loaded_at, person_key, 'phone', phone, null, null
    from {{ records }}
    where phone_valid and not phone_masked and phone is not null
      and phone_kind in ({% for kind in var('identity_linking_phone_kinds') %}'{{ kind }}'{% if not loop.last %}, {% endif %}{% endfor %})

    union all

    select
        domain_person.entity, domain_person.source_record_id, domain_person.loaded_at,
        domain_person.person_key, 'domain_person',
        case
            when companies.company_count > 1 then domain_person.base_key || '|' || domain_person.company_key
            else domain_person.base_key
        end,
        domain_person.base_key,
        companies.company_count
    from ({{ identity_domain_person(records) }}) as domain_person
    inner join {{ companies }} as companies on companies.base_key = domain_person.base_key
    where companies.company_count <= 1 or domain_person.company_key is not null

    union all

    select
        entity, source_record_id, loaded_at, person_key, 'company_person',
        company_key || '|' || person_key, null, null
    from {{ records }}
    where company_key is not null and person_key is not null
{%- endmacro %}

{#- The newest load among the records of every kind: identity rows carry it as the build that
    wrote them (keyed_loaded_at, mapped_loaded_at), so int_activity_resolution finds what changed
    since its own last build (issue 17). -#}
{% macro newest_record_load() -%}
    (
        select max(loaded_at) from (
            {% for model in ['stg_intake_records', 'stg_follow_ups', 'stg_status_changes', 'stg_care_actions'] %}
            select max(loaded_at) as loaded_at from {{ ref(model) }}
            {% if not loop.last %}union all{% endif %}
            {% endfor %}
        ) as newest
    )
{%- endmacro %}
