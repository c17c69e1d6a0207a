-- Deal cycle time (C8, R11): business days from acquisition to first won, by grade at win and by
-- source. Grain: dimension ('grade_at_win' | 'source') x dimension_value (NULL = ungraded /
-- unknown). Continuous percentiles (percentile_cont), as in DuckDB and PostgreSQL.
with cycles as (
    select * from {{ ref('int_lead_cycle_times') }}
),

by_dimension as (
    select 'grade_at_win' as dimension, grade_at_win as dimension_value, cycle_days from cycles
    union all
    select 'source', source_label, cycle_days from cycles
)

select
    dimension,
    dimension_value,
    count(*) as won_leads,
    avg(cast(cycle_days as {{ type_double() }})) as mean_days,
    percentile_cont(0.5) within group (order by cycle_days) as median_days,
    percentile_cont(0.75) within group (order by cycle_days) as p75_days,
    percentile_cont(0.9) within group (order by cycle_days) as p90_days,
    min(cycle_days) as min_days,
    max(cycle_days) as max_days
from by_dimension
group by dimension, dimension_value
