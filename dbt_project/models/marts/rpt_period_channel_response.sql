-- Response rate by follow-up channel per period (R11, C8 Response rate and Periods): follow-ups
-- contacted in the period; response rate = responded true / responded known, open rate = opened
-- true / opened known (only channels that export email opens fill `opened`). Scoped by who did
-- the follow-up (C5: the person on a follow-up is who did it): the organisation, the actor's
-- team and the actor; an actor not in the owner directory counts for the organisation only.
-- Grain: period_kind x period_start x scope x scope_name x follow_up_channel, dense over the
-- trend, plus one '(all)' row per scope and period.
with periods as (
    select * from {{ ref('int_report_periods') }}
),

follow_ups as (
    select
        follow_ups.follow_up_id,
        teams.owner_name,
        teams.team_name,
        coalesce(follow_ups.follow_up_channel, 'unknown') as dim,
        follow_ups.contacted_on,
        follow_ups.responded,
        follow_ups.opened
    from {{ ref('fct_follow_ups') }} as follow_ups
    left join {{ ref('int_owner_teams') }} as teams
        on teams.owner_match_key = lower(follow_ups.actor_name)
),

scoped as (
    {{ report_scopes('follow_ups', total=true) }}
),

per_period as (
    select
        periods.period_kind, periods.period_start, scoped.scope, scoped.scope_name,
        scoped.dim_value, scoped.is_total,
        count(*) as follow_ups,
        {{ count_if('scoped.responded is not null') }} as responded_known,
        {{ count_if('scoped.responded') }} as responded_true,
        {{ count_if('scoped.opened is not null') }} as opened_known,
        {{ count_if('scoped.opened') }} as opened_true
    from scoped
    inner join periods on {{ in_period('scoped.contacted_on') }}
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
        series.dim_value as follow_up_channel,
        series.is_total,
        coalesce(per_period.follow_ups, 0) as follow_ups,
        coalesce(per_period.responded_known, 0) as responded_known,
        coalesce(per_period.responded_true, 0) as responded_true,
        {{ share('per_period.responded_true', 'per_period.responded_known') }} as response_rate,
        coalesce(per_period.opened_known, 0) as opened_known,
        coalesce(per_period.opened_true, 0) as opened_true,
        {{ share('per_period.opened_true', 'per_period.opened_known') }} as open_rate
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
        {% for column in ['follow_ups', 'response_rate', 'open_rate'] -%}
        lag({{ column }}) over (
            partition by period_kind, scope, scope_name, follow_up_channel order by period_start
        ) as previous_{{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from filled
)

select
    period_kind, period_start, period_end, period_index, scope, scope_name, follow_up_channel,
    is_total, follow_ups, responded_known, responded_true, response_rate, opened_known,
    opened_true, open_rate, previous_follow_ups, previous_response_rate, previous_open_rate
from with_previous
where in_trend
