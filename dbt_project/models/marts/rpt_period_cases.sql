-- The cases behind the report period's numbers (R11 "always looking at the cases behind the
-- numbers"): for the period each report covers (period_index 1), per kind, for the organisation
-- and each team, the leads a manager would open next:
--   lost_from_weakest_source  lost or churned in the period, from the source with the lowest
--                             conversion to date among those with at least
--                             var report_min_source_leads leads acquired (2 such sources needed)
--   slowest_wins              won in the period, longest cycle first
--   overdue_backlog           the oldest overdue items at the period's end of the
--                             var report_case_reps reps with the largest overdue backlog
-- Each list holds at most var report_case_limit leads. Grain: period_kind x scope x scope_name x
-- case_type x case_rank.
{%- set limit = var('report_case_limit') %}
with periods as (
    select * from {{ ref('int_report_periods') }} where period_index = 1
),

leads as (
    select
        leads.lead_key, leads.owner_name, teams.team_name, leads.company, leads.person_name,
        leads.source_label, leads.grade, leads.acquired_on
    from {{ ref('dim_leads') }} as leads
    left join {{ ref('int_owner_teams') }} as teams
        on teams.owner_match_key = lower(leads.owner_name)
),

weakest_source as (
    select period_kind, scope, scope_name, source_label, conversion_to_date, leads_acquired
    from (
        select
            conversion.*,
            row_number() over (
                partition by period_kind, scope, scope_name
                order by conversion_to_date, leads_acquired desc, source_label
            ) as weakness_rank,
            count(*) over (partition by period_kind, scope, scope_name) as qualifying_sources
        from {{ ref('rpt_period_source_conversion') }} as conversion
        where period_index = 1 and not is_total and scope <> 'rep'
          and leads_acquired >= {{ var('report_min_source_leads') }}
    ) as ranked
    where weakness_rank = 1 and qualifying_sources >= 2
),

closed as (
    select
        leads.*,
        reasons.lost_reason,
        reasons.churn_category,
        reasons.outcome,
        {{ business_date('status.status_changed_at') }} as closed_on
    from {{ ref('int_lead_churn_reasons') }} as reasons
    inner join {{ ref('int_lead_status') }} as status on status.lead_key = reasons.lead_key
    inner join leads on leads.lead_key = reasons.lead_key
),

closed_scoped as ({{ report_scopes('closed') }}),

lost_cases as (
    select {{ report_case('c', 'lost_from_weakest_source', 'c.closed_on desc, c.lead_key', {
        'closed_on': 'c.closed_on', 'lost_reason': 'c.lost_reason',
        'churn_category': 'c.churn_category', 'outcome': 'c.outcome',
        'source_conversion_to_date': 'weakest.conversion_to_date',
    }) }}
    from closed_scoped as c
    inner join periods on {{ in_period('c.closed_on') }}
    inner join weakest_source as weakest
        on weakest.period_kind = periods.period_kind and weakest.scope = c.scope
       and weakest.scope_name = c.scope_name and weakest.source_label = c.source_label
),

wins as (
    select leads.*, cycles.first_won_on, cycles.cycle_days
    from {{ ref('int_lead_cycle_times') }} as cycles
    inner join leads on leads.lead_key = cycles.lead_key
),

wins_scoped as ({{ report_scopes('wins') }}),

win_cases as (
    select {{ report_case('w', 'slowest_wins', 'w.cycle_days desc, w.lead_key', {
        'won_on': 'w.first_won_on', 'cycle_days': 'w.cycle_days',
    }) }}
    from wins_scoped as w
    inner join periods on {{ in_period('w.first_won_on') }}
),

overdue as (
    select leads.*, overdue.period_kind, overdue.next_due, overdue.days_overdue
    from {{ ref('int_lead_overdue_at_period_end') }} as overdue
    inner join leads on leads.lead_key = overdue.lead_key
    where overdue.period_index = 1
),

overdue_scoped as ({{ report_scopes('overdue') }}),

rep_backlog as (
    select
        period_kind, scope, scope_name, owner_name, count(*) as rep_overdue_backlog,
        row_number() over (
            partition by period_kind, scope, scope_name order by count(*) desc, owner_name
        ) as rep_rank
    from overdue_scoped
    group by period_kind, scope, scope_name, owner_name
),

overdue_cases as (
    select {{ report_case('o', 'overdue_backlog', 'reps.rep_rank, o.days_overdue desc, o.lead_key', {
        'next_due': 'o.next_due', 'days_overdue': 'o.days_overdue',
        'rep_overdue_backlog': 'reps.rep_overdue_backlog',
    }) }}
    from overdue_scoped as o
    inner join periods on periods.period_kind = o.period_kind
    inner join rep_backlog as reps
        on reps.period_kind = o.period_kind and reps.scope = o.scope
       and reps.scope_name = o.scope_name and reps.owner_name = o.owner_name
    where reps.rep_rank <= {{ var('report_case_reps') }}
),

all_cases as (
    select * from lost_cases
    union all
    select * from win_cases
    union all
    select * from overdue_cases
)

select *
from all_cases
where scope <> 'rep' and case_rank <= {{ limit }}
