-- R6: the goal of each lead's next follow-up. Grain: one row per lead visible at as_of.
-- The next follow-up is number touches + 1 (C8: any follow-up before the cut-off is a touch).
-- Seed follow_up_goals gives the goal of the 1st (confirm needs), 2nd (quote) and 3rd
-- (negotiate) follow-up, and after those the goal for the lead's status. A plan that states its
-- own goal (int_lead_profile.plan_goal, "目标：…") wins: goal_source = 'plan'.
with leads as (
    select
        profile.lead_key,
        profile.plan_goal,
        status.current_status,
        coalesce(touches.touch_count, 0) + 1 as next_follow_up_number
    from {{ ref('int_lead_profile') }} as profile
    inner join {{ ref('int_lead_status') }} as status on status.lead_key = profile.lead_key
    left join {{ ref('int_lead_touches') }} as touches on touches.lead_key = profile.lead_key
)

select
    leads.lead_key,
    cast(leads.next_follow_up_number as integer) as next_follow_up_number,
    coalesce(by_number.goal_code, by_status.goal_code) as seed_goal_code,
    leads.plan_goal,
    case
        when leads.plan_goal is not null then 'plan'
        when coalesce(by_number.goal_code, by_status.goal_code) is not null then 'seed'
    end as goal_source
from leads
left join {{ ref('follow_up_goals') }} as by_number
    on by_number.follow_up_number = leads.next_follow_up_number
left join {{ ref('follow_up_goals') }} as by_status
    on by_status.follow_up_number is null and by_status.status = leads.current_status
