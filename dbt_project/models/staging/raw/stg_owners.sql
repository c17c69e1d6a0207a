-- Owner directory (C5): latest version of each directory entry; one row per owner name.
with latest as (
    {{ latest_versions(source('raw', 'owner_records')) }}
),

named as (
    select
        {{ stg_lineage_columns() }},
        {{ blank_to_null('owner_name') }} as owner_name,
        {{ blank_to_null('email') }} as email,
        coalesce(email_valid, false) as email_valid,
        {{ accepted_or_null('lower(' ~ trim_spaces('language') ~ ')', 'language') }} as language,
        {{ blank_to_null('manager') }} as manager,
        active
    from latest
),

-- Two channels (or an export id change) could name one owner twice: the latest load wins.
ranked as (
    select
        named.*,
        row_number() over (
            partition by lower(owner_name)
            order by loaded_at desc, load_id desc, source_row_number desc
        ) as name_rank
    from named
    where owner_name is not null
)

select
    source_record_id, record_hash, channel, file_name, source_row_number, load_id, loaded_at,
    owner_name, lower(owner_name) as owner_match_key, email, email_valid, language, manager, active
from ranked
where name_rank = 1
