-- Conversion by lead source per period (R11, C8 Conversion and Periods), for the organisation,
-- each team and each rep (the lead's current owner):
--   leads_acquired / won_to_date: leads acquired in the period, and those of them won by as_of
--   leads_won: leads whose first win fell in the period, by the source they came from
-- Grain: period_kind x period_start x scope x scope_name x source_label, dense over the trend
-- (a source with no lead in a period shows 0), plus one '(all)' row per scope and period.
with periods as (
    select * from {{ ref('int_report_periods') }}
),

leads as (
    select
        leads.lead_key,
        leads.owner_name,
        teams.team_name,
        coalesce(leads.source_label, 'unknown') as dim,
        leads.acquired_on,
        leads.is_won,
        leads.first_won_on
    from {{ ref('dim_leads') }} as leads
    left join {{ ref('int_owner_teams') }} as teams
        on teams.owner_match_key = lower(leads.owner_name)
),

scoped as (
    {{ report_scopes('leads', total=true) }}
),

acquired as (
    {{ aggregate_per_period('scoped', 'acquired_on', dimension=true, aggregates={
        'leads_acquired': 'count(*)',
        'won_to_date': count_if('scoped.is_won'),
    }) }}
),

won as (
    {{ aggregate_per_period('scoped', 'first_won_on', dimension=true, aggregates={
        'leads_won': 'count(*)',
    }) }}
),

{{ period_trend(
    sources=['acquired', 'won'],
    dimension='source_label',
    measures={
        'leads_acquired': 'coalesce(acquired.leads_acquired, 0)',
        'won_to_date': 'coalesce(acquired.won_to_date, 0)',
        'conversion_to_date': share('acquired.won_to_date', 'acquired.leads_acquired'),
        'leads_won': 'coalesce(won.leads_won, 0)',
    },
    previous=['leads_acquired', 'conversion_to_date', 'leads_won'],
) }}
