{{ lead_incremental_config(with_routing=true) }}
-- A lead's path from first touch to outcome (R13), the place to open when a number needs its
-- cases. Grain: one row per event of a lead before the cut-off, numbered in time order:
--   intake         each intake record (its event time; the first responder, R1, did it)
--   follow_up      each follow-up (the rep who made it, C5); a sheet line restating a CRM
--                  record is the same contact, listed once
--   status_change  each status the lead moved into (C8 observations included)
--   grade_change, tag_added, tag_removed, plan_change   from int_lead_changes (R8)
--   owner_change   each owner assignment (lead_owner_history: human records and routing)
--   care_action    each care action (R9)
-- Timeless events (C2, C8) order first; at one time, in the list's order above. Every row
-- carries its lineage: the source record, its channel, file and row (C1); routing has none.
-- Incremental by lead (issue 17, macros/lead_increments.sql), a lead also recomputed when its
-- routing moved (int_touched_routing_leads); fct_lead_timeline is its copy.
with status_records as (
    select source_record_id, actor_name from {{ ref('int_status_changes') }}
),

lineage as (
    {{ record_lineage(['int_lead_intake_records', 'int_status_changes']) }}
),

events as (
    select
        lead_key, 1 as type_order, 'intake' as event_type, event_at,
        first_responder as actor_name, source_label as detail,
        cast(null as {{ dbt.type_string() }}) as value_before,
        cast(null as {{ dbt.type_string() }}) as value_after,
        source_record_id, channel, file_name, source_row_number, source_sheet
    from {{ ref('int_lead_intake_records') }}
    where {{ touched('lead_key', with_routing=true) }}

    union all

    select
        owners.lead_key, 2, 'owner_change', owners.assigned_at,
        case when owners.assignment_source = 'routing' then 'routing' end,
        coalesce(owners.rule_name, owners.assignment_source),
        owners.previous_owner, owners.owner_name,
        owners.source_record_id, lineage.channel, lineage.file_name, lineage.source_row_number,
        lineage.source_sheet
    from {{ ref('int_lead_owner_assignments') }} as owners
    left join lineage on lineage.source_record_id = owners.source_record_id
    where {{ touched('owners.lead_key', with_routing=true) }}

    union all

    select
        lead_key, 3, 'follow_up', contacted_at, actor_name, follow_up_channel,
        null, feedback,
        source_record_id, channel, file_name, source_row_number, source_sheet
    from {{ ref('int_follow_ups') }}
    where resolution_status = 'resolved' and restates_record_id is null
      and {{ touched('lead_key', with_routing=true) }}

    union all

    select
        statuses.lead_key, 4, 'status_change', statuses.event_at, status_records.actor_name,
        statuses.lost_reason, statuses.previous_status, statuses.status,
        statuses.source_record_id, lineage.channel, lineage.file_name,
        lineage.source_row_number, lineage.source_sheet
    from {{ ref('int_lead_status_events') }} as statuses
    left join status_records on status_records.source_record_id = statuses.source_record_id
    left join lineage on lineage.source_record_id = statuses.source_record_id
    where (statuses.previous_status is null or statuses.previous_status <> statuses.status)
      and {{ touched('statuses.lead_key', with_routing=true) }}

    union all

    select
        lead_key, 5,
        case change_type when 'plan' then 'plan_change' when 'grade' then 'grade_change'
             else change_type end,
        observed_at, null, source_entity, value_before, value_after,
        source_record_id, channel, file_name, source_row_number, source_sheet
    from {{ ref('int_lead_changes') }}
    where {{ touched('lead_key', with_routing=true) }}

    union all

    select
        lead_key, 6, 'care_action', acted_at, actor_name, care_type, null, note,
        source_record_id, channel, file_name, source_row_number, source_sheet
    from {{ ref('int_care_actions') }}
    where resolution_status = 'resolved' and restates_record_id is null
      and {{ touched('lead_key', with_routing=true) }}
)

select
    lead_key,
    cast(row_number() over (
        partition by lead_key
        order by event_at asc nulls first, type_order, file_name nulls first,
                 source_row_number nulls first, source_record_id nulls first, event_type,
                 value_after nulls first
    ) as integer) as event_sequence,
    event_at,
    {{ business_date('event_at') }} as event_on,
    event_type,
    actor_name,
    detail,
    value_before,
    value_after,
    source_record_id,
    channel,
    file_name,
    source_row_number,
    source_sheet
from events
-- leads visible at the cut-off only: an activity may resolve to a lead whose intake record is
-- after it (a backfill of a CRM export), which has no path yet
where lead_key in (select lead_key from {{ ref('int_lead_profile') }})
