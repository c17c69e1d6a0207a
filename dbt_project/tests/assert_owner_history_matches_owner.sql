-- fct_lead_owner_assignments's current assignment is the one int_lead_owner applies (R13, C5): one
-- ordering of human and routing assignments, not two. Returns the leads where they differ.
select owner.lead_key, owner.assigned_owner_name, history.owner_name as history_owner_name
from {{ ref('int_lead_owner') }} as owner
left join {{ ref('fct_lead_owner_assignments') }} as history
    on history.lead_key = owner.lead_key and history.is_current
where coalesce(owner.assigned_owner_name, '') <> coalesce(history.owner_name, '')
   or coalesce(owner.owner_source, '') <> coalesce(history.assignment_source, '')
{{ config(severity='error') }}
