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
with activities as (
    {% for entity, model in [('follow_up', 'stg_follow_ups'), ('status', 'stg_status_changes'),
                             ('care_action', 'stg_care_actions')] %}
    select '{{ entity }}' as entity, source_record_id, id_namespace, lead_ref, parent_record_id
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

intake_leads as (
    select intake.source_record_id, intake.id_namespace, intake.export_id, key_map.lead_key
    from {{ ref('stg_intake_records') }} as intake
    inner join {{ ref('int_lead_key_map') }} as key_map
        on key_map.source_record_id = intake.source_record_id
),

-- Each key value names its leads once (issue 8): activity keys join distinct key -> lead pairs,
-- not every intake record that carries the key.
intake_key_leads as (
    select distinct intake_keys.key_type, intake_keys.key_value, intake_leads.lead_key
    from {{ ref('int_identity_keys') }} as intake_keys
    inner join intake_leads on intake_leads.source_record_id = intake_keys.source_record_id
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
    from {{ ref('int_identity_keys') }} as activity_keys
    inner join intake_key_leads
        on intake_key_leads.key_type = activity_keys.key_type
       and intake_key_leads.key_value = activity_keys.key_value
    where activity_keys.entity <> 'intake' and not activity_keys.is_blocked
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
    decided.candidate_lead_keys
from activities
left join decided
    on decided.entity = activities.entity
   and decided.source_record_id = activities.source_record_id
