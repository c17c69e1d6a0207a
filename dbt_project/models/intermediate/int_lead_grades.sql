{{ lead_incremental_config() }}
-- Grade of every lead at as_of (C7). Grain: one row per lead.
--   manual grade: the latest record with a grade wins (latest grade time, then load)
--   else the rule table (seed grade_rules, first matching rule_order) over the latest known facts
--   no grade and no facts: ungraded (NULL)
--   first_graded_at: earliest grade time (manual grade, or the first record with facts for a
--   rule grade); NULL when unknown -> the grading SLA is "unknown" (R3)
{% set facts = ['budget_confirmed', 'budget_amount', 'decision_within_days', 'decision_chain_known', 'need_clarity'] %}
-- One recency order per lead (issue 8: one sort, not one per fact); the manual grade and each
-- fact then take the first record in that order that carries one.
with events as (
    select
        events.*,
        row_number() over (
            partition by lead_key
            order by {{ newest_first("grade_at") }}
        ) as recency_rank
    from {{ ref('int_lead_grade_events') }} as events
    where {{ touched('events.lead_key') }}
),

picks as (
    select
        lead_key,
        min(case when has_manual_grade then recency_rank end) as manual_pick,
        {% for fact in facts %}
        min(case when {{ fact }} is not null then recency_rank end) as {{ fact }}_pick{% if not loop.last %},{% endif %}
        {% endfor %}
    from events
    group by lead_key
),

per_lead as (
    select
        events.lead_key,
        max(case when events.recency_rank = picks.manual_pick then events.grade end) as manual_grade,
        max(case when events.recency_rank = picks.manual_pick then events.grade_at end) as manual_grade_at,
        min(case when events.has_manual_grade then events.grade_at end) as first_manual_grade_at,
        max(case when events.has_grade_facts then 1 else 0 end) = 1 as has_facts,
        min(case when events.has_grade_facts then events.grade_at end) as first_facts_at,
        max(case when events.has_grade_facts then events.grade_at end) as latest_facts_at,
        -- a grade or facts with no known time (C7): the lead may have been graded before its
        -- earliest dated grade, so only a dated grade within the deadline proves the SLA met
        max(case when events.grade_at is null then 1 else 0 end) = 1 as has_untimed_grade,
        {% for fact in facts %}
        {%- set agg = 'bool_or' if fact in ('budget_confirmed', 'decision_chain_known') else 'max' %}
        {{ agg }}(case when events.recency_rank = picks.{{ fact }}_pick then events.{{ fact }} end) as {{ fact }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from events
    inner join picks on picks.lead_key = events.lead_key
    group by events.lead_key
),

rule_matches as (
    select
        per_lead.lead_key,
        rules.grade,
        row_number() over (partition by per_lead.lead_key order by rules.rule_order) as match_rank
    from per_lead
    inner join {{ ref('grade_rules') }} as rules
        on (rules.budget_confirmed is null or rules.budget_confirmed = per_lead.budget_confirmed)
       and (rules.min_budget_amount is null or per_lead.budget_amount >= rules.min_budget_amount)
       and (rules.max_decision_within_days is null
            or per_lead.decision_within_days <= rules.max_decision_within_days)
       and (rules.decision_chain_known is null
            or rules.decision_chain_known = per_lead.decision_chain_known)
       and (rules.need_clarity is null or rules.need_clarity = per_lead.need_clarity)
    where per_lead.has_facts
)

select
    per_lead.lead_key,
    coalesce(per_lead.manual_grade, rule_matches.grade) as grade,
    case
        when per_lead.manual_grade is not null then 'manual'
        when rule_matches.grade is not null then 'rule'
    end as grade_source,
    case
        when per_lead.manual_grade is not null then per_lead.manual_grade_at
        when rule_matches.grade is not null then per_lead.latest_facts_at
    end as grade_at,
    case
        when per_lead.manual_grade is not null or rule_matches.grade is not null
            then least(
                coalesce(per_lead.first_manual_grade_at, per_lead.first_facts_at),
                coalesce(case when rule_matches.grade is not null then per_lead.first_facts_at end,
                         per_lead.first_manual_grade_at)
            )
    end as first_graded_at,
    per_lead.has_untimed_grade,
    per_lead.manual_grade,
    rule_matches.grade as rule_grade,
    {% for fact in facts %}
    per_lead.{{ fact }}{% if not loop.last %},{% endif %}
    {% endfor %}
from per_lead
left join rule_matches
    on rule_matches.lead_key = per_lead.lead_key
   and rule_matches.match_rank = 1
