{{ config(tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- Customer care due at as_of (R9, C8). Grain: one row per customer and care stream that is due.
-- For won, not churned customers: the monthly survey, the quarterly report and greetings on key
-- dates (Spring Festival from the seed calendar, within its window) are due when no care action
-- of that stream was logged in the period before the cut-off. Company anniversaries are not in any
-- export yet, so they are not scheduled.
with customers as (
    select lead_key from {{ ref('int_lead_status') }} where is_customer
),

periods as (
    select
        schedule.care_stream,
        schedule.period,
        cast(null as {{ dbt.type_string() }}) as occasion,
        case schedule.period
            when 'month' then cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
            when 'quarter' then cast({{ dbt.date_trunc('quarter', as_of_date()) }} as date)
        end as period_start,
        case schedule.period
            when 'month' then cast({{ dbt.last_day(as_of_date(), 'month') }} as date)
            when 'quarter' then cast({{ dbt.last_day(as_of_date(), 'quarter') }} as date)
        end as due_by
    from {{ ref('care_schedule') }} as schedule
    where schedule.period in ('month', 'quarter')

    union all

    select
        schedule.care_stream,
        schedule.period,
        calendar.occasion,
        {{ add_days('-calendar.window_days_before', 'calendar.occasion_date') }} as period_start,
        calendar.occasion_date as due_by
    from {{ ref('care_schedule') }} as schedule
    cross join {{ ref('care_calendar') }} as calendar
    where schedule.period = 'occasion'
      and {{ as_of_date() }} between {{ add_days('-calendar.window_days_before', 'calendar.occasion_date') }}
                                 and calendar.occasion_date
),

done as (
    select care.lead_key, types.care_stream, care.acted_on
    from {{ ref('int_care_actions') }} as care
    inner join {{ ref('care_action_types') }} as types on types.care_type = care.care_type
    where care.resolution_status = 'resolved' and care.acted_on is not null
)

select
    customers.lead_key,
    periods.care_stream,
    periods.period,
    periods.occasion,
    periods.period_start,
    periods.due_by
from customers
cross join periods
where not exists (
    select 1
    from done
    where done.lead_key = customers.lead_key
      and done.care_stream = periods.care_stream
      and done.acted_on >= periods.period_start
)
