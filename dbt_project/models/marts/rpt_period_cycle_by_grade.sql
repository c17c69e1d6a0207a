-- Deal cycle by grade per period (R11, C8 Cycle time and Periods): leads whose first win fell in
-- the period, by the grade they had when won; business days from acquisition to first win,
-- count, median and p75 (continuous percentiles). For the organisation, each team and each rep
-- (the lead's current owner). Leads with an unknown acquisition or win time are left out.
-- Grain: period_kind x period_start x scope x scope_name x grade_at_win, dense over the trend,
-- plus one '(all)' row per scope and period.
with periods as (
    select * from {{ ref('int_report_periods') }}
),

wins as (
    select
        cycles.lead_key,
        owners.owner_name,
        teams.team_name,
        coalesce(cycles.grade_at_win, 'ungraded') as dim,
        cycles.first_won_on,
        cycles.cycle_days
    from {{ ref('int_lead_cycle_times') }} as cycles
    inner join {{ ref('int_lead_owner') }} as owners on owners.lead_key = cycles.lead_key
    left join {{ ref('int_owner_teams') }} as teams
        on teams.owner_match_key = lower(owners.owner_name)
),

scoped as (
    {{ report_scopes('wins', total=true) }}
),

per_period as (
    {{ aggregate_per_period('scoped', 'first_won_on', dimension=true, aggregates={
        'won_leads': 'count(*)',
        'mean_days': 'avg(cast(scoped.cycle_days as ' ~ type_double() ~ '))',
        'median_days': 'percentile_cont(0.5) within group (order by scoped.cycle_days)',
        'p75_days': 'percentile_cont(0.75) within group (order by scoped.cycle_days)',
        'max_days': 'max(scoped.cycle_days)',
    }) }}
),

{{ period_trend(
    sources=['per_period'],
    dimension='grade_at_win',
    measures={
        'won_leads': 'coalesce(per_period.won_leads, 0)',
        'mean_days': 'per_period.mean_days',
        'median_days': 'per_period.median_days',
        'p75_days': 'per_period.p75_days',
        'max_days': 'per_period.max_days',
    },
    previous=['won_leads', 'median_days', 'p75_days'],
) }}
