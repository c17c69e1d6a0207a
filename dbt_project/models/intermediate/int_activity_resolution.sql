{{ config(
    materialized='incremental',
    unique_key=['entity', 'source_record_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    full_refresh=(true if var('rebuild_staging', false) else none)
) }}
-- Which lead each activity (follow-up, status, care action) belongs to (C3).
-- Grain: one row per activity record (entity, source_record_id).
-- Tiers, first that finds any lead decides:
--   0 the intake record of the same file row (a channel's `records`, a sheet's dated lines, C1)
--   1 lead_ref = an intake export_id in the same id_namespace (the exporting system's lead id)
--   2 email / mobile phone / corporate domain + person (the linking keys)
--   3 company + person name
-- 0 leads -> orphan_reference (kept; resolves on a later run when its lead arrives),
-- 2+ leads in the deciding tier -> ambiguous_reference (kept, no lead).
-- Activities never create leads or count toward the key threshold.
--
-- Issue 17, incremental: an activity's result depends on its own record and keys and on the leads
-- its lookups find, so a build re-resolves only the activities where one of those changed since
-- its last build (W, the newest load then; everything up to W was resolved then, hence `> W`):
-- new or re-versioned activities; activities whose key
-- rows were rebuilt (a key's name count crossed the limit, a domain key gained or lost its
-- company); activities naming an intake record, export id or key of an intake record that is new,
-- re-versioned, re-keyed (a merge) or had its keys rebuilt; activities left unresolved (few); and
-- activities whose lead is the lead of such a record or was merged away (a record that lost a key
-- can only take away its own lead). The rows of int_identity_keys and int_lead_key_map carry the
-- newest load when they were written, which is how a change is found. The var rebuild_staging
-- re-resolves every activity.
with all_activities as (
    {% for entity, model in [('follow_up', 'stg_follow_ups'), ('status', 'stg_status_changes'),
                             ('care_action', 'stg_care_actions')] %}
    select '{{ entity }}' as entity, source_record_id, id_namespace, lead_ref, parent_record_id, loaded_at
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

intake_leads as materialized (
    select
        intake.source_record_id, intake.id_namespace, intake.export_id, intake.loaded_at,
        key_map.lead_key, key_map.mapped_loaded_at
    from {{ ref('stg_intake_records') }} as intake
    inner join {{ ref('int_lead_key_map') }} as key_map
        on key_map.source_record_id = intake.source_record_id
),

{% if is_incremental() %}
previous as (
    select entity, source_record_id, lead_key, resolution_status from {{ this }}
),

since as (
    select max(resolved_loaded_at) as loaded_at from {{ this }}
),

touched_intake as materialized (
    select intake_leads.source_record_id
    from intake_leads
    cross join since
    where intake_leads.loaded_at > since.loaded_at or intake_leads.mapped_loaded_at > since.loaded_at

    union

    select keys.source_record_id
    from {{ ref('int_identity_keys') }} as keys
    cross join since
    where keys.entity = 'intake' and keys.keyed_loaded_at > since.loaded_at
),

touched_leads as (
    select distinct intake_leads.lead_key
    from intake_leads
    inner join touched_intake on touched_intake.source_record_id = intake_leads.source_record_id
),

touched_keys as (
    select distinct keys.key_type, keys.key_value
    from {{ ref('int_identity_keys') }} as keys
    inner join touched_intake on touched_intake.source_record_id = keys.source_record_id
    where keys.entity = 'intake'
),

touched_refs as (
    select distinct intake_leads.id_namespace, intake_leads.export_id
    from intake_leads
    inner join touched_intake on touched_intake.source_record_id = intake_leads.source_record_id
    where intake_leads.export_id is not null
),

current_leads as (
    select distinct lead_key from intake_leads
),

re_resolved as (
    select all_activities.entity, all_activities.source_record_id
    from all_activities
    cross join since
    where all_activities.loaded_at > since.loaded_at

    union

    select keys.entity, keys.source_record_id
    from {{ ref('int_identity_keys') }} as keys
    cross join since
    where keys.entity <> 'intake' and keys.keyed_loaded_at > since.loaded_at

    union

    select all_activities.entity, all_activities.source_record_id
    from all_activities
    inner join touched_intake on touched_intake.source_record_id = all_activities.parent_record_id

    union

    select all_activities.entity, all_activities.source_record_id
    from all_activities
    inner join touched_refs
        on touched_refs.id_namespace = all_activities.id_namespace
       and touched_refs.export_id = all_activities.lead_ref

    union

    select keys.entity, keys.source_record_id
    from {{ ref('int_identity_keys') }} as keys
    inner join touched_keys
        on touched_keys.key_type = keys.key_type and touched_keys.key_value = keys.key_value
    where keys.entity <> 'intake'

    union

    select previous.entity, previous.source_record_id
    from previous
    left join touched_leads on touched_leads.lead_key = previous.lead_key
    left join current_leads on current_leads.lead_key = previous.lead_key
    where previous.resolution_status <> 'resolved'
       or touched_leads.lead_key is not null
       or current_leads.lead_key is null
),

activities as materialized (
    select all_activities.*
    from all_activities
    inner join re_resolved
        on re_resolved.entity = all_activities.entity
       and re_resolved.source_record_id = all_activities.source_record_id
),
{% else %}
activities as (
    select * from all_activities
),
{% endif %}

activity_keys as materialized (
    select keys.entity, keys.source_record_id, keys.key_type, keys.key_value
    from {{ ref('int_identity_keys') }} as keys
    {% if is_incremental() %}
    inner join activities
        on activities.entity = keys.entity and activities.source_record_id = keys.source_record_id
    {% endif %}
    where keys.entity <> 'intake' and not keys.is_blocked
),

-- Each key value names its leads once (issue 8): activity keys join distinct key -> lead pairs,
-- not every intake record that carries the key.
intake_key_leads as (
    select distinct intake_keys.key_type, intake_keys.key_value, intake_leads.lead_key
    from {{ ref('int_identity_keys') }} as intake_keys
    inner join intake_leads on intake_leads.source_record_id = intake_keys.source_record_id
    {% if is_incremental() %}
    inner join (select distinct key_type, key_value from activity_keys) as wanted
        on wanted.key_type = intake_keys.key_type and wanted.key_value = intake_keys.key_value
    {% endif %}
    where intake_keys.entity = 'intake'
),

candidates as (
    select activities.entity, activities.source_record_id, 0 as tier, intake_leads.lead_key
    from activities
    inner join intake_leads on intake_leads.source_record_id = activities.parent_record_id

    union all

    select activities.entity, activities.source_record_id, 1 as tier, intake_leads.lead_key
    from activities
    inner join intake_leads
        on intake_leads.id_namespace = activities.id_namespace
       and intake_leads.export_id = activities.lead_ref

    union all

    select
        activity_keys.entity,
        activity_keys.source_record_id,
        case when activity_keys.key_type = 'company_person' then 3 else 2 end as tier,
        intake_key_leads.lead_key
    from activity_keys
    inner join intake_key_leads
        on intake_key_leads.key_type = activity_keys.key_type
       and intake_key_leads.key_value = activity_keys.key_value
),

-- One row per activity, tier and lead, so the counts and lists below need no DISTINCT.
candidate_leads as (
    select entity, source_record_id, tier, lead_key
    from candidates
    group by entity, source_record_id, tier, lead_key
),

-- One pass per activity: the deciding (lowest) tier, and per tier how many leads and the least.
per_activity as (
    select
        entity,
        source_record_id,
        min(tier) as tier,
        {% for tier in [0, 1, 2, 3] %}
        count(case when tier = {{ tier }} then lead_key end) as tier_{{ tier }}_leads,
        min(case when tier = {{ tier }} then lead_key end) as tier_{{ tier }}_lead{% if not loop.last %},{% endif %}
        {% endfor %}
    from candidate_leads
    group by entity, source_record_id
),

decided_counts as (
    select
        entity,
        source_record_id,
        tier,
        case tier
            when 0 then tier_0_leads when 1 then tier_1_leads
            when 2 then tier_2_leads when 3 then tier_3_leads
        end as candidate_leads,
        case tier
            when 0 then tier_0_lead when 1 then tier_1_lead
            when 2 then tier_2_lead when 3 then tier_3_lead
        end as any_lead_key
    from per_activity
),

-- The ordered list is built only where there is more than one lead (a list of one is that lead):
-- an ordered aggregate per activity was most of this model's time (issue 8).
candidate_lists as (
    select
        candidate_leads.entity,
        candidate_leads.source_record_id,
        {{ dbt.listagg('candidate_leads.lead_key', "', '", 'order by candidate_leads.lead_key') }} as candidate_lead_keys
    from candidate_leads
    inner join decided_counts
        on decided_counts.entity = candidate_leads.entity
       and decided_counts.source_record_id = candidate_leads.source_record_id
       and decided_counts.tier = candidate_leads.tier
    where decided_counts.candidate_leads > 1
    group by candidate_leads.entity, candidate_leads.source_record_id
),

decided as (
    select
        decided_counts.*,
        case
            when decided_counts.candidate_leads = 1 then decided_counts.any_lead_key
            else candidate_lists.candidate_lead_keys
        end as candidate_lead_keys
    from decided_counts
    left join candidate_lists
        on candidate_lists.entity = decided_counts.entity
       and candidate_lists.source_record_id = decided_counts.source_record_id
)

select
    activities.entity,
    activities.source_record_id,
    case when decided.candidate_leads = 1 then decided.any_lead_key end as lead_key,
    case
        when decided.candidate_leads is null then 'orphan_reference'
        when decided.candidate_leads > 1 then 'ambiguous_reference'
        else 'resolved'
    end as resolution_status,
    case decided.tier when 0 then 'same_row' when 1 then 'lead_ref' when 2 then 'contact_key' when 3 then 'company_person' end
        as resolved_by,
    coalesce(decided.candidate_leads, 0) as candidate_leads,
    decided.candidate_lead_keys,
    -- the newest load when the row was written: the next build's W
    {{ newest_record_load() }} as resolved_loaded_at
from activities
left join decided
    on decided.entity = activities.entity
   and decided.source_record_id = activities.source_record_id
