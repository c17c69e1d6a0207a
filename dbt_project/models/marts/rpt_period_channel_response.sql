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
    {{ aggregate_per_period('scoped', 'contacted_on', dimension=true, aggregates={
        'follow_ups': 'count(*)',
        'responded_known': count_if('scoped.responded is not null'),
        'responded_true': count_if('scoped.responded'),
        'opened_known': count_if('scoped.opened is not null'),
        'opened_true': count_if('scoped.opened'),
    }) }}
),

{{ period_trend(
    sources=['per_period'],
    dimension='follow_up_channel',
    measures={
        'follow_ups': 'coalesce(per_period.follow_ups, 0)',
        'responded_known': 'coalesce(per_period.responded_known, 0)',
        'responded_true': 'coalesce(per_period.responded_true, 0)',
        'response_rate': share('per_period.responded_true', 'per_period.responded_known'),
        'opened_known': 'coalesce(per_period.opened_known, 0)',
        'opened_true': 'coalesce(per_period.opened_true, 0)',
        'open_rate': share('per_period.opened_true', 'per_period.opened_known'),
    },
    previous=['follow_ups', 'response_rate', 'open_rate'],
) }}
