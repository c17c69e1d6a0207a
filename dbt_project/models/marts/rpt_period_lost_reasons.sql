-- Lost and churned leads per period by reason category (R11, C8 Churn reasons and Periods): leads
-- whose current lost status was recorded in the period (a lost status without a time is left
-- out: its period is unknown), by the keyword category of their reason, with the lost / churned
-- split. For the organisation, each team and each rep (the lead's current owner).
-- Grain: period_kind x period_start x scope x scope_name x churn_category, dense over the trend,
-- plus one '(all)' row per scope and period.
with periods as (
    select * from {{ ref('int_report_periods') }}
),

closed as (
    select
        reasons.lead_key,
        owners.owner_name,
        teams.team_name,
        reasons.churn_category as dim,
        reasons.outcome,
        {{ business_date('status.status_changed_at') }} as closed_on
    from {{ ref('int_lead_churn_reasons') }} as reasons
    inner join {{ ref('int_lead_status') }} as status on status.lead_key = reasons.lead_key
    inner join {{ ref('int_lead_owner') }} as owners on owners.lead_key = reasons.lead_key
    left join {{ ref('int_owner_teams') }} as teams
        on teams.owner_match_key = lower(owners.owner_name)
),

scoped as (
    {{ report_scopes('closed', total=true) }}
),

per_period as (
    {{ aggregate_per_period('scoped', 'closed_on', dimension=true, aggregates={
        'closed_leads': 'count(*)',
        'lost_leads': count_if("scoped.outcome = 'lost'"),
        'churned_leads': count_if("scoped.outcome = 'churned'"),
    }) }}
),

{{ period_trend(
    sources=['per_period'],
    dimension='churn_category',
    measures={
        'closed_leads': 'coalesce(per_period.closed_leads, 0)',
        'lost_leads': 'coalesce(per_period.lost_leads, 0)',
        'churned_leads': 'coalesce(per_period.churned_leads, 0)',
    },
    derived={
        'share_of_closed': share(
            'closed_leads',
            'sum(case when not is_total then closed_leads else 0 end)'
            ~ ' over (partition by period_kind, period_start, scope, scope_name)'
        ),
    },
    previous=['closed_leads', 'share_of_closed'],
) }}
