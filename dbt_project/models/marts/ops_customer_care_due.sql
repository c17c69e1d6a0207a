{{ config(tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- Customer care due at as_of (R9, C8): one row per won, not churned customer and care stream due
-- (monthly survey, quarterly report, Spring Festival greeting within its window), with its owner.
select
    {{ as_of_date() }} as as_of,
    care.lead_key,
    leads.owner_name,
    leads.company,
    leads.person_name,
    leads.phone,
    leads.email,
    care.care_stream,
    care.period,
    care.occasion,
    care.period_start,
    care.due_by
from {{ ref('int_customer_care_due') }} as care
inner join {{ ref('dim_leads') }} as leads on leads.lead_key = care.lead_key
