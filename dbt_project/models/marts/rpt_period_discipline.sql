-- Follow-up discipline per period (R3, R7, R11), for the organisation, each team and each rep:
--   grading:  leads acquired in the period by their grading SLA status at as_of (sla_breaches:
--             met / breached / unknown / pending); share graded within 24 h = met / (met +
--             breached), by the lead's current owner
--   logging:  follow-ups contacted in the period; share logged within 1 h = within / logged
--             time known, by who did the follow-up (C5)
--   backlog:  open graded leads overdue at the period's end (int_lead_overdue_at_period_end),
--             by the lead's current owner, and the oldest one's days overdue
-- Grain: period_kind x period_start x scope x scope_name, dense over the trend.
with periods as (
    select * from {{ ref('int_report_periods') }}
),

grading as (
    select
        sla.lead_key,
        sla.owner_name,
        teams.team_name,
        {{ business_date('sla.acquired_at') }} as acquired_on,
        sla.sla_status
    from {{ ref('fct_grading_sla') }} as sla
    left join {{ ref('int_owner_teams') }} as teams on teams.owner_match_key = lower(sla.owner_name)
),

logging as (
    select
        follow_ups.follow_up_id,
        teams.owner_name,
        teams.team_name,
        follow_ups.contacted_on,
        follow_ups.logged_within_1h,
        specificity.is_specific  -- R7: the record says what happened (issue 20)
    from {{ ref('fct_follow_ups') }} as follow_ups
    left join {{ ref('int_follow_up_specificity') }} as specificity
        on specificity.follow_up_id = follow_ups.follow_up_id
    left join {{ ref('int_owner_teams') }} as teams
        on teams.owner_match_key = lower(follow_ups.actor_name)
),

backlog as (
    select
        overdue.period_kind,
        overdue.period_start,
        overdue.lead_key,
        owners.owner_name,
        teams.team_name,
        overdue.days_overdue
    from {{ ref('int_lead_overdue_at_period_end') }} as overdue
    inner join {{ ref('int_lead_owner') }} as owners on owners.lead_key = overdue.lead_key
    left join {{ ref('int_owner_teams') }} as teams
        on teams.owner_match_key = lower(owners.owner_name)
),

grading_scoped as ({{ report_scopes('grading') }}),
logging_scoped as ({{ report_scopes('logging') }}),
backlog_scoped as ({{ report_scopes('backlog') }}),

grading_per_period as (
    select
        periods.period_kind, periods.period_start, s.scope, s.scope_name,
        count(*) as leads_acquired,
        {{ count_if("s.sla_status = 'met'") }} as graded_within_24h,
        {{ count_if("s.sla_status = 'breached'") }} as grading_breached,
        {{ count_if("s.sla_status = 'unknown'") }} as grading_time_unknown,
        {{ count_if("s.sla_status = 'pending'") }} as grading_pending
    from grading_scoped as s
    inner join periods on {{ in_period('s.acquired_on') }}
    group by 1, 2, 3, 4
),

logging_per_period as (
    select
        periods.period_kind, periods.period_start, s.scope, s.scope_name,
        count(*) as follow_ups,
        {{ count_if('s.logged_within_1h is not null') }} as logged_time_known,
        {{ count_if('s.logged_within_1h') }} as logged_within_1h,
        {{ count_if('s.is_specific') }} as specific_records
    from logging_scoped as s
    inner join periods on {{ in_period('s.contacted_on') }}
    group by 1, 2, 3, 4
),

backlog_per_period as (
    select
        period_kind, period_start, scope, scope_name,
        count(*) as overdue_at_end,
        max(days_overdue) as oldest_overdue_days
    from backlog_scoped
    group by 1, 2, 3, 4
),

series as (
    select period_kind, scope, scope_name from grading_per_period
    union
    select period_kind, scope, scope_name from logging_per_period
    union
    select period_kind, scope, scope_name from backlog_per_period
),

filled as (
    select
        periods.period_kind,
        periods.period_start,
        periods.period_end,
        periods.period_index,
        periods.in_trend,
        series.scope,
        series.scope_name,
        coalesce(g.leads_acquired, 0) as leads_acquired,
        coalesce(g.graded_within_24h, 0) as graded_within_24h,
        coalesce(g.grading_breached, 0) as grading_breached,
        coalesce(g.grading_time_unknown, 0) as grading_time_unknown,
        coalesce(g.grading_pending, 0) as grading_pending,
        {{ share('g.graded_within_24h', 'g.graded_within_24h + g.grading_breached') }}
            as graded_within_24h_share,
        coalesce(l.follow_ups, 0) as follow_ups,
        coalesce(l.logged_time_known, 0) as logged_time_known,
        coalesce(l.logged_within_1h, 0) as logged_within_1h,
        {{ share('l.logged_within_1h', 'l.logged_time_known') }} as logged_within_1h_share,
        coalesce(l.specific_records, 0) as specific_records,
        {{ share('l.specific_records', 'l.follow_ups') }} as specific_records_share,
        coalesce(b.overdue_at_end, 0) as overdue_at_end,
        b.oldest_overdue_days
    from series
    inner join periods on periods.period_kind = series.period_kind
    left join grading_per_period as g
        on g.period_kind = series.period_kind and g.period_start = periods.period_start
       and g.scope = series.scope and g.scope_name = series.scope_name
    left join logging_per_period as l
        on l.period_kind = series.period_kind and l.period_start = periods.period_start
       and l.scope = series.scope and l.scope_name = series.scope_name
    left join backlog_per_period as b
        on b.period_kind = series.period_kind and b.period_start = periods.period_start
       and b.scope = series.scope and b.scope_name = series.scope_name
),

with_previous as (
    select
        filled.*,
        {% for column in ['graded_within_24h_share', 'logged_within_1h_share', 'specific_records_share', 'overdue_at_end'] -%}
        lag({{ column }}) over (
            partition by period_kind, scope, scope_name order by period_start
        ) as previous_{{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from filled
)

select
    period_kind, period_start, period_end, period_index, scope, scope_name,
    leads_acquired, graded_within_24h, grading_breached, grading_time_unknown, grading_pending,
    graded_within_24h_share, follow_ups, logged_time_known, logged_within_1h,
    logged_within_1h_share, specific_records, specific_records_share, overdue_at_end,
    oldest_overdue_days, previous_graded_within_24h_share, previous_logged_within_1h_share,
    previous_specific_records_share, previous_overdue_at_end
from with_previous
where in_trend
