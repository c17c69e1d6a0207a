-- Leads at as_of (C3, C7, C8, C5). Grain: one row per lead visible before the cut-off.
-- Flags travel with the lead (C6): a flagged lead is still counted and visible.
with flags as (
    -- current versions only (record_hash matches), de-duplicated across validation runs
    select
        intake.lead_key,
        count(distinct flags.source_record_id || '|' || flags.column_name || '|' || flags.check_name)
            as dq_flag_count,
        {{ dbt.listagg('distinct flags.check_name', "', '", 'order by flags.check_name') }} as dq_checks
    from {{ ref('stg_dq_flags') }} as flags
    inner join {{ ref('int_lead_intake_records') }} as intake
        on intake.source_record_id = flags.source_record_id
       and intake.record_hash = flags.record_hash
    group by intake.lead_key
)

,

-- the current tag set (dim_lead_tags has one row per tag): the latest tagged record's tags
current_tags as (
    select tags.lead_key, {{ dbt.listagg('tags.tag', "', '", 'order by tags.tag') }} as tags
    from {{ ref('int_lead_tag_observations') }} as tags
    inner join (
        select lead_key, max(record_sequence) as current_sequence
        from {{ ref('int_lead_tag_observations') }}
        group by lead_key
    ) as latest
        on latest.lead_key = tags.lead_key and latest.current_sequence = tags.record_sequence
    group by tags.lead_key
)

select
    profile.lead_key,
    profile.acquired_at,
    profile.acquired_on,
    cast({{ dbt.date_trunc('month', 'profile.acquired_on') }} as date) as acquisition_cohort,
    profile.source_label,
    profile.first_channel,
    profile.channels,
    profile.intake_record_count,
    profile.person_name,
    profile.title,
    profile.company,
    profile.industry,
    profile.phone,
    profile.email,
    profile.city,
    profile.province,
    profile.company_size,
    profile.need,
    -- the profile (R1, R4, R6, R12), each from the latest record that has it (C3)
    profile.background,
    grades.budget_confirmed,
    grades.budget_amount,
    grades.decision_within_days,
    grades.decision_chain_known,
    grades.need_clarity,
    current_tags.tags,
    profile.plan_text,
    profile.plan_goal,
    goals.next_follow_up_number,
    goals.seed_goal_code as next_goal_code,
    goals.goal_source as next_goal_source,
    profile.notes,
    profile.first_responder,
    speed.first_follow_up_at,
    speed.first_follow_up_by,
    speed.hours_to_first_follow_up,
    status.current_status,
    status.status_changed_at,
    status.is_open,
    status.is_won,
    status.first_won_at,
    status.first_won_on,
    status.reached_intent,
    status.is_lost,
    status.is_churned,
    status.is_customer,
    status.lost_reason,
    status.deal_value,
    grades.grade,
    grades.grade_source,
    grades.grade_at,
    grades.first_graded_at,
    coalesce(grades.has_untimed_grade, false) as has_untimed_grade,
    owner.owner_name,
    owner.assigned_owner_name,
    owner.owner_status,
    owner.owner_source,
    owner.assigned_at as owner_assigned_at,
    owner.routing_rule,
    owner.routing_unassigned_reason,
    touches.touch_count,
    touches.last_touch_at,
    touches.next_action,
    touches.next_action_due,
    cadence.next_due,
    cadence.days_overdue,
    -- C6: completeness is judged on the resolved lead, so a corrected record clears it. Codes,
    -- not prose: the email words them in the owner's language (contact = no valid phone or email)
    nullif(
        concat_ws(', ',
            case when profile.person_name is null then 'person_name' end,
            case when profile.company is null then 'company' end,
            case when profile.phone is null and profile.email is null then 'contact' end
        ), ''
    ) as missing_fields,
    coalesce(flags.dq_flag_count, 0) as dq_flag_count,
    flags.dq_checks
from {{ ref('int_lead_profile') }} as profile
inner join {{ ref('int_lead_status') }} as status on status.lead_key = profile.lead_key
inner join {{ ref('int_lead_owner') }} as owner on owner.lead_key = profile.lead_key
inner join {{ ref('int_lead_cadence') }} as cadence on cadence.lead_key = profile.lead_key
left join {{ ref('int_lead_grades') }} as grades on grades.lead_key = profile.lead_key
left join {{ ref('int_lead_touches') }} as touches on touches.lead_key = profile.lead_key
left join flags on flags.lead_key = profile.lead_key
left join current_tags on current_tags.lead_key = profile.lead_key
inner join {{ ref('int_lead_speed_to_lead') }} as speed on speed.lead_key = profile.lead_key
inner join {{ ref('int_lead_next_goal') }} as goals on goals.lead_key = profile.lead_key
