{{ config(
    materialized='incremental',
    unique_key=['entity', 'source_record_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    full_refresh=(true if var('rebuild_staging', false) else none),
    post_hook="delete from {{ this }} where key_type is null"
) }}
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
-- A key value shared by too many distinct people (a switchboard, a shared inbox) stops linking;
-- only intake records count toward the threshold (C3).
--
-- Issue 17, incremental: a record's rows change only when the record changed (a load since the
-- last build brought it or a new version of it), when a key it carries changed its name count, or
-- when its domain + person base changed its company count (its key gains or loses the company).
-- Those records are rebuilt whole (delete+insert on entity, source_record_id); one left with no
-- key writes a row without a key, which deletes its old rows and is then removed (post_hook). The
-- counts each row was computed with are kept on it (person_names_on_key, domain_person_companies),
-- so a changed count is found by comparing them with today's; keyed_loaded_at (the newest load
-- when the row was written) tells int_activity_resolution which rows changed. The var
-- rebuild_staging rebuilds the model from all records.
with all_records as (
    {{ identity_records() }}
),

-- The counts, over all records: distinct companies per domain + person base (records of every
-- kind), distinct person names per intake key value (activities do not count, C3).
companies as materialized (
    select base_key, count(distinct company_key) as company_count
    from ({{ identity_domain_person('all_records') }}) as domain_person
    group by base_key
),

all_intake as (
    select * from all_records where entity = 'intake'
),

names_per_key as materialized (
    select key_type, key_value, count(distinct person_key) as person_names
    from ({{ identity_key_rows('all_intake', 'companies') }}) as intake_keys
    group by key_type, key_value
),

{% if is_incremental() %}
stored as (
    select entity, source_record_id, key_type, key_value, person_names_on_key,
           domain_person_base, domain_person_companies
    from {{ this }}
),

-- a load since the last build brought the record or a new version of it: every load up to the
-- newest this model holds was keyed then (loads are stamped in commit order), so `>`; the staging
-- models' `>=` would rebuild the whole newest load again, all of a first load's last file
loaded as (
    select entity, source_record_id
    from all_records
    where loaded_at > (select max(loaded_at) from {{ this }})
),

recounted as (
    select stored.entity, stored.source_record_id
    from stored
    left join names_per_key
        on names_per_key.key_type = stored.key_type and names_per_key.key_value = stored.key_value
    where stored.person_names_on_key <> coalesce(names_per_key.person_names, 0)
),

changed_bases as (
    select distinct stored.domain_person_base as base_key
    from stored
    left join companies on companies.base_key = stored.domain_person_base
    where stored.key_type = 'domain_person'
      and stored.domain_person_companies <> coalesce(companies.company_count, 0)
),

-- every record on a changed base, with or without a row today (one without a company has none
-- while the base names several companies)
rebased as (
    select domain_person.entity, domain_person.source_record_id
    from ({{ identity_domain_person('all_records') }}) as domain_person
    inner join changed_bases on changed_bases.base_key = domain_person.base_key
),

rebuilt as (
    select entity, source_record_id from loaded
    union
    select entity, source_record_id from recounted
    union
    select entity, source_record_id from rebased
),

records as materialized (
    select all_records.*
    from all_records
    inner join rebuilt
        on rebuilt.entity = all_records.entity and rebuilt.source_record_id = all_records.source_record_id
),
{% else %}
records as (
    select * from all_records
),
{% endif %}

keys as (
    {{ identity_key_rows('records', 'companies') }}
),

key_rows as (
    select
        keys.entity,
        keys.source_record_id,
        keys.key_type,
        keys.key_value,
        keys.person_key,
        coalesce(names_per_key.person_names, 0) as person_names_on_key,
        coalesce(names_per_key.person_names, 0) > {{ var('identity_max_names_per_key') }} as is_blocked,
        keys.key_type <> 'company_person' as links_intake,
        keys.domain_person_base,
        keys.domain_person_companies,
        keys.loaded_at,
        {{ newest_record_load() }} as keyed_loaded_at
    from keys
    left join names_per_key
        on names_per_key.key_type = keys.key_type
       and names_per_key.key_value = keys.key_value
)

select * from key_rows
{% if is_incremental() %}
union all
-- a rebuilt record with no key left: deletes its old rows, then the post_hook deletes this one
select
    records.entity, records.source_record_id,
    cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
    cast(null as {{ dbt.type_string() }}), 0, false, false,
    cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_bigint() }}), records.loaded_at,
    {{ newest_record_load() }}
from records
where not exists (
    select 1 from keys
    where keys.entity = records.entity and keys.source_record_id = records.source_record_id
)
{% endif %}
