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
    select
        periods.period_kind, periods.period_start, scoped.scope, scoped.scope_name,
        scoped.dim_value, scoped.is_total,
        count(*) as won_leads,
        avg(cast(scoped.cycle_days as {{ type_double() }})) as mean_days,
        percentile_cont(0.5) within group (order by scoped.cycle_days) as median_days,
        percentile_cont(0.75) within group (order by scoped.cycle_days) as p75_days,
        max(scoped.cycle_days) as max_days
    from scoped
    inner join periods on {{ in_period('scoped.first_won_on') }}
    group by 1, 2, 3, 4, 5, 6
),

series as (
    select distinct period_kind, scope, scope_name, dim_value, is_total from per_period
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
        series.dim_value as grade_at_win,
        series.is_total,
        coalesce(per_period.won_leads, 0) as won_leads,
        per_period.mean_days,
        per_period.median_days,
        per_period.p75_days,
        per_period.max_days
    from series
    inner join periods on periods.period_kind = series.period_kind
    left join per_period
        on per_period.period_kind = series.period_kind
       and per_period.period_start = periods.period_start
       and per_period.scope = series.scope and per_period.scope_name = series.scope_name
       and per_period.dim_value = series.dim_value
),

with_previous as (
    select
        filled.*,
        {% for column in ['won_leads', 'median_days', 'p75_days'] -%}
        lag({{ column }}) over (
            partition by period_kind, scope, scope_name, grade_at_win order by period_start
        ) as previous_{{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from filled
)

select
    period_kind, period_start, period_end, period_index, scope, scope_name, grade_at_win,
    is_total, won_leads, mean_days, median_days, p75_days, max_days,
    previous_won_leads, previous_median_days, previous_p75_days
from with_previous
where in_trend
