-- Which leads' owner assignments move in this build through routing (issue 17,
-- macros/lead_increments.sql): the models with owner events (int_lead_owner_assignments,
-- int_lead_timeline) recompute a lead when int_touched_leads marks it or when this does. Routing
-- reads other leads (pools, round robin), so it cannot be part of int_touched_leads, which the
-- routing models depend on. Grain: one row per lead with routing visible at the cut-off, plus one
-- per lead the last build had and this one has not (fingerprint NULL). changed: the fingerprint
-- over its log rows (as routing_log_by_lead shows them: under today's key, assigned at or before
-- the cut-off) differs from the one the last build stored. A full build marks every lead changed.
{%- set previous = none if rebuild_lead_models() else load_relation(this) %}
with fingerprints as (
    select
        routed.current_lead_key as lead_key,
        bit_xor({{ fingerprint_hash(fingerprint_text([
            'routed.lead_key', 'routed.assignment_number', 'routed.assigned_at', 'routed.owner_name',
            'routed.rule_name', 'routed.reason', 'routed.unassigned_reason',
        ])) }}) as fingerprint,
        count(*) as record_count
    from ({{ routing_log_by_lead(ref('int_lead_routing')) }}) as routed
    group by routed.current_lead_key
)

{% if previous is not none %}
, previous as (
    select lead_key, fingerprint, record_count from {{ previous }} where fingerprint is not null
)

select
    coalesce(fingerprints.lead_key, previous.lead_key) as lead_key,
    fingerprints.fingerprint,
    fingerprints.record_count,
    (fingerprints.lead_key is null or previous.lead_key is null
     or fingerprints.fingerprint <> previous.fingerprint
     or fingerprints.record_count <> previous.record_count) as changed
from fingerprints
full outer join previous on previous.lead_key = fingerprints.lead_key
{% else %}
select lead_key, fingerprint, record_count, true as changed
from fingerprints
{% endif %}
