-- Lost and churned leads whose reason matched no keyword (C8: listed for review, so the keyword
-- seed can grow). Grain: one row per lead.
select
    churn.lead_key,
    churn.outcome,
    churn.lost_reason,
    leads.company,
    leads.person_name,
    leads.owner_name,
    leads.source_label
from {{ ref('int_lead_churn_reasons') }} as churn
inner join {{ ref('dim_leads') }} as leads on leads.lead_key = churn.lead_key
where churn.needs_review
