-- Which leads' owner assignments move in this build through routing (issue 17,
-- macros/lead_increments.sql): the models with owner events (int_lead_owner_assignments,
-- int_lead_timeline) recompute a lead when int_touched_leads marks it or when this does. Routing
-- reads other leads (pools, round robin), so it cannot be part of int_touched_leads, which the
-- routing models depend on. Grain: one row per lead with routing visible at the cut-off, plus one
-- per lead the last build had and this one has not (fingerprint NULL). changed: the fingerprint
-- over its log rows (as routing_log_by_lead shows them: under today's key, assigned at or before
-- the cut-off) differs from the one the last build stored. A full build marks every lead changed.
{%- set previous = last_fingerprints() %}
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

{{ fingerprints_changed_since(previous) }}
