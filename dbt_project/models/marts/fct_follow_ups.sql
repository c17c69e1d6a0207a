-- Follow-ups before the cut-off that resolved to one lead (C3, C8, R7). Grain: one row per
-- follow-up record. Orphan and ambiguous ones are in ops_activity_reference_issues.
select
    source_record_id as follow_up_id,
    lead_key,
    resolved_by,
    contacted_at,
    contacted_on,
    follow_up_channel,
    responded,
    opened,
    feedback,
    objection,
    next_action,
    next_action_due,
    actor_name,
    logged_at,
    -- R7: logged within 1 h of the contact (NULL when either time is unknown)
    case
        when logged_at is not null and contacted_at is not null and contacted_at_is_date_only is not true
            then {{ dbt.datediff('contacted_at', 'logged_at', 'minute') }} <= 60
    end as logged_within_1h,
    grade,
    channel,
    file_name,
    source_row_number
from {{ ref('int_follow_ups') }}
where resolution_status = 'resolved' and restates_record_id is null
