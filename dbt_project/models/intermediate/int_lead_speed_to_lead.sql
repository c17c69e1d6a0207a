{{ lead_incremental_config() }}
-- Speed to lead (the seed's "fast response to new leads", R1, R7): hours from acquisition to
-- the lead's first follow-up. Grain: one row per lead visible at as_of. The first follow-up is
-- the earliest resolved follow-up by contact time (a sheet line restating a CRM record counts
-- once, as for touches); who made it is its rep. Hours are NULL when acquisition is unknown
-- (C8: no timed intake record) or the first contact has a date only (its hour is unknown).
-- A contact before acquisition (the person was known before the form) counts as 0 hours.
with firsts as (
    select
        lead_key,
        contacted_at,
        contacted_at_is_date_only,
        actor_name,
        row_number() over (
            partition by lead_key
            order by contacted_at asc, logged_at asc nulls last, loaded_at asc, load_id asc,
                     source_row_number asc, source_record_id asc
        ) as contact_rank
    from {{ ref('int_follow_ups') }}
    where resolution_status = 'resolved' and restates_record_id is null
      and contacted_at is not null and {{ touched('lead_key') }}
)

select
    profile.lead_key,
    profile.acquired_at,
    profile.source_label,
    firsts.contacted_at as first_follow_up_at,
    firsts.actor_name as first_follow_up_by,
    case
        when profile.acquired_at is not null and firsts.contacted_at is not null
             and firsts.contacted_at_is_date_only is not true
            then cast(greatest(
                {{ dbt.datediff('profile.acquired_at', 'firsts.contacted_at', 'second') }}, 0
            ) as {{ type_double() }}) / 3600
    end as hours_to_first_follow_up
from {{ ref('int_lead_profile') }} as profile
left join firsts on firsts.lead_key = profile.lead_key and firsts.contact_rank = 1
where {{ touched('profile.lead_key') }}
