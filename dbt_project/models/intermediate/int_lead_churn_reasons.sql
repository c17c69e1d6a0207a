-- Churn reason category of every lost or churned lead at as_of (C8, R11). Grain: one row per lead.
-- The lost reason (latest lost status record) is matched case-insensitively against the keyword
-- seed (Chinese and English); the matching category with the lowest priority wins; no match or
-- no text -> 'other' (listed for review in ops_churn_reason_review).
with closed as (
    select
        lead_key,
        case when is_churned then 'churned' else 'lost' end as outcome,
        lost_reason
    from {{ ref('int_lead_status') }}
    where is_lost or is_churned
),

matches as (
    select
        closed.lead_key,
        keywords.category,
        row_number() over (
            partition by closed.lead_key
            order by keywords.priority, keywords.category, keywords.keyword
        ) as match_rank
    from closed
    inner join {{ ref('churn_keywords') }} as keywords
        on {{ dbt.position('lower(keywords.keyword)', 'lower(closed.lost_reason)') }} > 0
)

select
    closed.lead_key,
    closed.outcome,
    closed.lost_reason,
    coalesce(matches.category, 'other') as churn_category,
    matches.category is null as needs_review
from closed
left join matches
    on matches.lead_key = closed.lead_key
   and matches.match_rank = 1
