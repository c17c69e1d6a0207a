{{ lead_incremental_config() }}
-- Every tag on every visible intake record (R4, R8). Grain: one row per intake record and
-- normalised tag. Tags are split on the separators people use (`,` `，` `、` `;` `；` `/` `|`,
-- line breaks) and normalised: width-folded (ＶＩＰ = VIP), case-folded, trimmed; blank pieces
-- dropped. record_sequence orders a lead's tagged records oldest first, the way every "latest
-- record" pick of the profile does (newest_first: event time, timeless first, then load order),
-- so the highest sequence is the lead's current tag set.
with tagged as (
    select
        lead_key, source_record_id, channel, file_name, source_row_number, source_sheet,
        event_at, loaded_at, load_id, tags,
        row_number() over (
            partition by lead_key
            order by {{ oldest_first('event_at') }}
        ) as record_sequence
    from {{ ref('int_lead_intake_records') }}
    where tags is not null and {{ touched('lead_key') }}
),

pieces as (
    select
        tagged.*,
        unnest(regexp_split_to_array({{ fold_width('tagged.tags') }}, {{ tag_separators() }}))
            as piece
    from tagged
)

-- a record naming one tag twice (制造业、制造业) carries it once
select distinct
    lead_key, source_record_id, channel, file_name, source_row_number, source_sheet, event_at,
    loaded_at, load_id, record_sequence, tags as tags_as_written, {{ normalised_tag('piece') }} as tag
from pieces
where {{ normalised_tag('piece') }} is not null
