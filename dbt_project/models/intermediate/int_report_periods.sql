{{ config(tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- The reporting periods of as_of (C8 Periods, R11): ISO weeks (Monday to Sunday) and calendar
-- months in business time. Period 1 is the last complete period before as_of's cut-off (it ends
-- on or before as_of), 2 the one before, ... One period more than the trend shows
-- (var report_trend_periods + 1), so the oldest period of the trend has its "previous".
-- Grain: one row per period kind and period_index.
{%- set periods = var('report_trend_periods') + 1 %}
with offsets as (
    {% for i in range(1, periods + 1) -%}
    select {{ i }} as period_index{% if not loop.last %} union all{% endif %}
    {% endfor %}
),

anchors as (
    -- the start of the period as_of is in: the report covers the periods before it
    select 'week' as period_kind, cast({{ dbt.date_trunc('week', as_of_date()) }} as date) as anchor
    union all
    select 'month', cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
)

select
    anchors.period_kind,
    offsets.period_index,
    case when anchors.period_kind = 'week'
         then {{ add_days('-7 * offsets.period_index', 'anchors.anchor') }}
         else cast({{ dbt.dateadd('month', '-offsets.period_index', 'anchors.anchor') }} as date)
    end as period_start,
    case when anchors.period_kind = 'week'
         then {{ add_days('-7 * (offsets.period_index - 1)', 'anchors.anchor') }}
         else cast({{ dbt.dateadd('month', '-(offsets.period_index - 1)', 'anchors.anchor') }} as date)
    end as period_end,
    offsets.period_index <= {{ var('report_trend_periods') }} as in_trend
from anchors
cross join offsets
