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
    {{ aggregate_per_period('grading_scoped', 'acquired_on', aggregates={
        'leads_acquired': 'count(*)',
        'graded_within_24h': count_if("grading_scoped.sla_status = 'met'"),
        'grading_breached': count_if("grading_scoped.sla_status = 'breached'"),
        'grading_time_unknown': count_if("grading_scoped.sla_status = 'unknown'"),
        'grading_pending': count_if("grading_scoped.sla_status = 'pending'"),
    }) }}
),

logging_per_period as (
    {{ aggregate_per_period('logging_scoped', 'contacted_on', aggregates={
        'follow_ups': 'count(*)',
        'logged_time_known': count_if('logging_scoped.logged_within_1h is not null'),
        'logged_within_1h': count_if('logging_scoped.logged_within_1h'),
        'specific_records': count_if('logging_scoped.is_specific'),
    }) }}
),

backlog_per_period as (
    select
        period_kind, period_start, scope, scope_name,
        count(*) as overdue_at_end,
        max(days_overdue) as oldest_overdue_days
    from backlog_scoped
    group by 1, 2, 3, 4
),

{{ period_trend(
    sources=['grading_per_period', 'logging_per_period', 'backlog_per_period'],
    measures={
        'leads_acquired': 'coalesce(grading_per_period.leads_acquired, 0)',
        'graded_within_24h': 'coalesce(grading_per_period.graded_within_24h, 0)',
        'grading_breached': 'coalesce(grading_per_period.grading_breached, 0)',
        'grading_time_unknown': 'coalesce(grading_per_period.grading_time_unknown, 0)',
        'grading_pending': 'coalesce(grading_per_period.grading_pending, 0)',
        'graded_within_24h_share': share(
            'grading_per_period.graded_within_24h',
            'grading_per_period.graded_within_24h + grading_per_period.grading_breached'
        ),
        'follow_ups': 'coalesce(logging_per_period.follow_ups, 0)',
        'logged_time_known': 'coalesce(logging_per_period.logged_time_known, 0)',
        'logged_within_1h': 'coalesce(logging_per_period.logged_within_1h, 0)',
        'logged_within_1h_share': share(
            'logging_per_period.logged_within_1h', 'logging_per_period.logged_time_known'
        ),
        'specific_records': 'coalesce(logging_per_period.specific_records, 0)',
        'specific_records_share': share(
            'logging_per_period.specific_records', 'logging_per_period.follow_ups'
        ),
        'overdue_at_end': 'coalesce(backlog_per_period.overdue_at_end, 0)',
        'oldest_overdue_days': 'backlog_per_period.oldest_overdue_days',
    },
    previous=[
        'graded_within_24h_share', 'logged_within_1h_share', 'specific_records_share',
        'overdue_at_end',
    ],
) }}
