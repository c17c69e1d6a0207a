{{ lead_incremental_config() }}
-- Intake records visible at the cut-off (C4: before it, or timeless), with their lead key.
-- Grain: one row per intake source_record_id. A lead exists at as_of when it has one such record.
-- The rankings sort narrow rows, then the wide record joins them (issue 8: sorting every column
-- spilled under the memory limit).
with ranked as (
    select
        key_map.lead_key,
        intake.source_record_id,
        -- C8 ordering: earliest timed record first, then first loaded.
        row_number() over (
            partition by key_map.lead_key
            order by intake.event_at asc nulls last, intake.loaded_at asc, intake.load_id asc,
                     intake.source_row_number asc, intake.source_record_id asc
        ) as acquisition_rank,
        row_number() over (
            partition by key_map.lead_key
            order by intake.loaded_at asc, intake.load_id asc, intake.source_row_number asc,
                     intake.source_record_id asc
        ) as load_rank
    from {{ ref('stg_intake_records') }} as intake
    inner join {{ ref('int_lead_key_map') }} as key_map
        on key_map.source_record_id = intake.source_record_id
    where {{ visible_at_cutoff('intake.event_at') }}
      and {{ touched('key_map.lead_key') }}
)

select
    ranked.lead_key,
    intake.*,
    {{ business_date('intake.event_at') }} as event_on,
    ranked.acquisition_rank,
    ranked.load_rank
from {{ ref('stg_intake_records') }} as intake
inner join ranked on ranked.source_record_id = intake.source_record_id
