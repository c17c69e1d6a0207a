-- A lead's current tags (R4, R8): one row per lead and tag, for filtering (制造业, 决策链复杂).
-- Current = the tags of the lead's latest record that has any (C3, like every profile field): a
-- later record that leaves a tag out removes it (fct_lead_changes keeps the removal). Each tag
-- names where it came from: the earliest record in the lead's order that carried it, with that
-- record's lineage, and the record that carries the current set.
with observations as (
    select * from {{ ref('int_lead_tag_observations') }}
),

current_records as (
    select lead_key, max(record_sequence) as current_sequence
    from observations
    group by lead_key
),

-- the first record that carried the tag, and since when it has been carried without a gap
firsts as (
    select
        observations.*,
        row_number() over (
            partition by lead_key, tag order by record_sequence
        ) as carried_rank,
        count(*) over (partition by lead_key, tag) as record_count
    from observations
)

select
    current_tags.lead_key,
    current_tags.tag,
    current_tags.tags_as_written,
    current_tags.source_record_id,
    firsts.source_record_id as first_source_record_id,
    firsts.channel as first_channel,
    firsts.file_name as first_file_name,
    firsts.source_row_number as first_row_number,
    firsts.source_sheet as first_sheet,
    firsts.event_at as first_record_event_at,
    firsts.loaded_at as first_loaded_at,
    cast(firsts.record_count as integer) as record_count
from observations as current_tags
inner join current_records
    on current_records.lead_key = current_tags.lead_key
   and current_records.current_sequence = current_tags.record_sequence
inner join firsts
    on firsts.lead_key = current_tags.lead_key
   and firsts.tag = current_tags.tag
   and firsts.carried_rank = 1
