-- Which lead each activity (follow-up, status, care action) belongs to (C3).
-- Grain: one row per activity record (entity, source_record_id).
-- Tiers, first that finds any lead decides:
--   1 lead_ref = an intake export_id in the same id_namespace (the exporting system's lead id)
--   2 email / mobile phone / corporate domain + person (the linking keys)
--   3 company + person name
-- 0 leads -> orphan_reference (kept; resolves on a later run when its lead arrives),
-- 2+ leads in the deciding tier -> ambiguous_reference (kept, no lead).
-- Activities never create leads or count toward the key threshold.
with activities as (
    {% for entity, model in [('follow_up', 'stg_follow_ups'), ('status', 'stg_status_changes'),
                             ('care_action', 'stg_care_actions')] %}
    select '{{ entity }}' as entity, source_record_id, id_namespace, lead_ref
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

candidates as (
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
        intake_leads.lead_key
    from {{ ref('int_identity_keys') }} as activity_keys
    inner join {{ ref('int_identity_keys') }} as intake_keys
        on intake_keys.entity = 'intake'
       and intake_keys.key_type = activity_keys.key_type
       and intake_keys.key_value = activity_keys.key_value
    inner join intake_leads on intake_leads.source_record_id = intake_keys.source_record_id
    where activity_keys.entity <> 'intake' and not activity_keys.is_blocked
),

deciding_tier as (
    select entity, source_record_id, min(tier) as tier
    from candidates
    group by entity, source_record_id
),

decided as (
    select
        candidates.entity,
        candidates.source_record_id,
        candidates.tier,
        count(distinct candidates.lead_key) as candidate_leads,
        min(candidates.lead_key) as any_lead_key,
        {{ dbt.listagg('distinct candidates.lead_key', "', '", 'order by candidates.lead_key') }} as candidate_lead_keys
    from candidates
    inner join deciding_tier
        on deciding_tier.entity = candidates.entity
       and deciding_tier.source_record_id = candidates.source_record_id
       and deciding_tier.tier = candidates.tier
    group by candidates.entity, candidates.source_record_id, candidates.tier
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
    case decided.tier when 1 then 'lead_ref' when 2 then 'contact_key' when 3 then 'company_person' end
        as resolved_by,
    coalesce(decided.candidate_leads, 0) as candidate_leads,
    decided.candidate_lead_keys
from activities
left join decided
    on decided.entity = activities.entity
   and decided.source_record_id = activities.source_record_id
