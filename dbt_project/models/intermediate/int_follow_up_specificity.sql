{{ lead_incremental_config() }}
-- R7: is each follow-up record specific? Grain: one row per resolved follow-up before the
-- cut-off (as fct_follow_ups: a sheet line restating a CRM record is that record). Not
-- specific: feedback empty, shorter than var specific_feedback_min_chars once spaces and
-- punctuation are removed, or one of the vague phrases of seed vague_feedback_phrases (compared
-- width- and case-folded). Validation flags the same records `vague_feedback` (one seed, one
-- threshold: expectations/specificity.py).
with phrases as (
    select distinct {{ specificity_text('phrase') }} as phrase_text
    from {{ ref('vague_feedback_phrases') }}
),

follow_ups as (
    select
        source_record_id,
        lead_key,
        actor_name,
        contacted_at,
        contacted_on,
        follow_up_channel,
        feedback,
        {{ specificity_text('feedback') }} as feedback_text,
        channel,
        file_name,
        source_row_number,
        source_sheet
    from {{ ref('int_follow_ups') }}
    where resolution_status = 'resolved' and restates_record_id is null
      and {{ touched('lead_key') }}
)

select
    follow_ups.source_record_id as follow_up_id,
    follow_ups.lead_key,
    follow_ups.actor_name,
    follow_ups.contacted_at,
    follow_ups.contacted_on,
    follow_ups.follow_up_channel,
    follow_ups.feedback,
    case
        when follow_ups.feedback_text is null then 'empty'
        when phrases.phrase_text is not null then 'vague_phrase'
        when {{ dbt.length('follow_ups.feedback_text') }} < {{ var('specific_feedback_min_chars') }}
            then 'too_short'
    end as vague_reason,
    -- specific = none of the above
    not (follow_ups.feedback_text is null or phrases.phrase_text is not null
         or {{ dbt.length('follow_ups.feedback_text') }} < {{ var('specific_feedback_min_chars') }})
        as is_specific,
    follow_ups.channel,
    follow_ups.file_name,
    follow_ups.source_row_number,
    follow_ups.source_sheet
from follow_ups
left join phrases on phrases.phrase_text = follow_ups.feedback_text
