-- Activities before the cut-off that name no lead (orphan_reference) or two+ leads
-- (ambiguous_reference) (C3). Kept, listed for review; an orphan resolves on a later run when its
-- lead arrives. Grain: one row per activity record.
{% for entity, model, ts in [('follow_up', 'int_follow_ups', 'contacted_at'),
                             ('status', 'int_status_changes', 'changed_at'),
                             ('care_action', 'int_care_actions', 'acted_at')] %}
select
    '{{ entity }}' as entity,
    source_record_id,
    resolution_status as check_name,
    candidate_lead_keys,
    {{ ts }} as event_at,
    lead_ref,
    company,
    person_name,
    phone,
    email,
    channel,
    file_name,
    source_row_number
from {{ ref(model) }}
where resolution_status <> 'resolved'
{% if not loop.last %}union all{% endif %}
{% endfor %}
