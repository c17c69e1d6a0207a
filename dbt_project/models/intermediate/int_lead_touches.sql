{{ lead_incremental_config() }}
-- Follow-up activity of every lead before the cut-off (C8). Grain: one row per lead with at least
-- one resolved follow-up. Touch = any follow-up, answered or not. The latest follow-up (contact
-- time, then logged time, then load) carries the plan: next action and its agreed date (R6).
with follow_ups as (
    select
        follow_ups.*,
        row_number() over (
            partition by lead_key
            order by contacted_at desc nulls last, logged_at desc nulls last, loaded_at desc,
                     load_id desc, source_row_number desc
        ) as recency_rank
    from {{ ref('int_follow_ups') }} as follow_ups
    where resolution_status = 'resolved' and restates_record_id is null  -- one touch, not two
      and {{ touched('lead_key') }}
)

select
    lead_key,
    count(*) as touch_count,
    max(contacted_at) as last_touch_at,
    {{ business_date('max(contacted_at)') }} as last_touch_on,
    max(case when recency_rank = 1 then source_record_id end) as latest_follow_up_id,
    max(case when recency_rank = 1 then contacted_at end) as latest_follow_up_at,
    max(case when recency_rank = 1 then next_action end) as next_action,
    max(case when recency_rank = 1 then next_action_due end) as next_action_due,
    max(case when recency_rank = 1 then actor_name end) as last_touched_by
from follow_ups
group by lead_key
