-- Churn reasons (C8, R11): lost and churned leads by category, with the lost / churned split.
-- Grain: one row per category. 'other' = no keyword matched (see ops_churn_reason_review).
select
    churn_category,
    count(*) as leads,
    {{ count_if("outcome = 'lost'") }} as lost_leads,
    {{ count_if("outcome = 'churned'") }} as churned_leads,
    cast(count(*) as {{ type_double() }}) / sum(count(*)) over () as share_of_closed
from {{ ref('int_lead_churn_reasons') }}
group by churn_category
