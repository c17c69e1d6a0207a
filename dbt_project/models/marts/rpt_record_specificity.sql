-- R7 discipline: the share of each rep's follow-up records that are specific, per ISO week and
-- calendar month of the contact (C8 periods, business time), for the period discipline figures
-- (issue 16 joins on rep_name, period_kind, period_start). Grain: rep x period kind x period
-- start, for every period with at least one dated follow-up of the rep.
with follow_ups as (
    select * from {{ ref('int_follow_up_specificity') }}
    where contacted_on is not null
),

periods as (
    select 'week' as period_kind, cast({{ dbt.date_trunc('week', 'contacted_on') }} as date) as period_start, follow_ups.*
    from follow_ups
    union all
    select 'month', cast({{ dbt.date_trunc('month', 'contacted_on') }} as date), follow_ups.*
    from follow_ups
)

select
    actor_name as rep_name,
    period_kind,
    period_start,
    {{ count_if('true') }} as follow_ups,
    {{ count_if('is_specific') }} as specific_follow_ups,
    {{ count_if('not is_specific') }} as vague_follow_ups,
    cast({{ count_if('is_specific') }} as {{ type_double() }}) / count(*) as share_specific
from periods
group by actor_name, period_kind, period_start
