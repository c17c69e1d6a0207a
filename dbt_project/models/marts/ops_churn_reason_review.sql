-- Lost-reason texts that matched no keyword (C8: counted as `other` and listed for review, so the
-- keyword seed can grow), most frequent first. Texts are grouped case- and space-insensitively;
-- leads with no reason at all form one row with reason_text NULL. Grain: one row per text.
with unmatched as (
    select
        churn.lead_key,
        churn.outcome,
        churn.lost_reason,
        lower({{ trim_spaces('churn.lost_reason') }}) as reason_text
    from {{ ref('int_lead_churn_reasons') }} as churn
    where churn.needs_review
),

per_text as (
    select
        reason_text,
        min(lost_reason) as example_reason,
        count(*) as leads,
        {{ count_if("outcome = 'lost'") }} as lost_leads,
        {{ count_if("outcome = 'churned'") }} as churned_leads,
        min(lead_key) as example_lead_key
    from unmatched
    group by reason_text
)

select
    reason_text,
    example_reason,
    leads,
    lost_leads,
    churned_leads,
    example_lead_key,
    row_number() over (order by leads desc, reason_text asc nulls last) as review_rank
from per_text
