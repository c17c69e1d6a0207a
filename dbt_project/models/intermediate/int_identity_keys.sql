-- Match keys of every record (C3), one row per record and key. Intake rows link people into leads;
-- activity rows find their lead with the same keys. Grain: entity, source_record_id, key_type.
--   email           normalised, valid email
--   phone           E.164 of a mobile number (landlines and switchboards never link people)
--   domain_person   corporate email domain + person key (free-mail domains excluded), only for a
--                   name that identifies a person (person_name_is_full) and never between two
--                   records whose company keys are both present and differ: where records of one
--                   domain + name name several companies, the key carries the company, and records
--                   without a company get none (they could join either)
--   company_person  company key + person key: resolves activities only, never links intake
--                   (for intake it would only flag a possible duplicate)
with records as (
    {% for entity, model in [('intake', 'stg_intake_records'), ('follow_up', 'stg_follow_ups'),
                             ('status', 'stg_status_changes'), ('care_action', 'stg_care_actions')] %}
    select
        '{{ entity }}' as entity, source_record_id, email, email_valid, email_domain, email_is_free,
        phone, phone_valid, phone_kind, phone_masked, person_key, person_name_is_full, company_key
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

domain_person as (
    select entity, source_record_id, person_key, company_key, email_domain || '|' || person_key as base_key
    from records
    where email_valid and not email_is_free and email_domain is not null and person_key is not null
      and person_name_is_full
),

domain_person_companies as (
    select base_key, count(distinct company_key) as company_count
    from domain_person
    group by base_key
),

keys as (
    select entity, source_record_id, person_key, 'email' as key_type, email as key_value
    from records
    where email_valid and email is not null

    union all

    select entity, source_record_id, person_key, 'phone', phone
    from records
    where phone_valid and not phone_masked and phone is not null
      and phone_kind in ({% for kind in var('identity_linking_phone_kinds') %}'{{ kind }}'{% if not loop.last %}, {% endif %}{% endfor %})

    union all

    select
        domain_person.entity, domain_person.source_record_id, domain_person.person_key,
        'domain_person',
        case
            when companies.company_count > 1 then domain_person.base_key || '|' || domain_person.company_key
            else domain_person.base_key
        end
    from domain_person
    inner join domain_person_companies as companies on companies.base_key = domain_person.base_key
    where companies.company_count <= 1 or domain_person.company_key is not null

    union all

    select entity, source_record_id, person_key, 'company_person', company_key || '|' || person_key
    from records
    where company_key is not null and person_key is not null
),

-- A key value shared by too many distinct people (a switchboard, a shared inbox) stops linking.
-- Only intake records count toward the threshold (C3).
names_per_key as (
    select key_type, key_value, count(distinct person_key) as person_names
    from keys
    where entity = 'intake'
    group by key_type, key_value
)

select
    keys.entity,
    keys.source_record_id,
    keys.key_type,
    keys.key_value,
    keys.person_key,
    coalesce(names_per_key.person_names, 0) as person_names_on_key,
    coalesce(names_per_key.person_names, 0) > {{ var('identity_max_names_per_key') }} as is_blocked,
    keys.key_type <> 'company_person' as links_intake
from keys
left join names_per_key
    on names_per_key.key_type = keys.key_type
   and names_per_key.key_value = keys.key_value
