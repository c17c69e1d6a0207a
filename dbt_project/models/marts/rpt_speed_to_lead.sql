-- Speed to lead (the seed's "fast response to new leads"; CRM analytics' headline response
-- metric): per source and per rep, the median hours from acquisition to first follow-up and the
-- share within 1 h and 24 h. Grain: dimension ('source' | 'rep') x dimension_value.
--   source: every lead with a known acquisition (C8) counts in `leads`; the figures are over the
--           leads followed up with a known hour (`measured_leads`); the others wait or are dated
--           only (`not_followed_up_leads`, `unmeasured_leads`)
--   rep:    the rep who made the first follow-up, over the leads they measured
-- Shares are of measured_leads (NULL when none); percentiles continuous (percentile_cont).
with leads as (
    select * from {{ ref('int_lead_speed_to_lead') }}
    where acquired_at is not null
),

by_dimension as (
    select 'source' as dimension, source_label as dimension_value, leads.*
    from leads

    union all

    select 'rep', first_follow_up_by, leads.*
    from leads
    where first_follow_up_at is not null
)

select
    dimension,
    dimension_value,
    {{ count_if('true') }} as leads,
    {{ count_if('hours_to_first_follow_up is not null') }} as measured_leads,
    {{ count_if('first_follow_up_at is null') }} as not_followed_up_leads,
    {{ count_if('first_follow_up_at is not null and hours_to_first_follow_up is null') }}
        as unmeasured_leads,
    percentile_cont(0.5) within group (order by hours_to_first_follow_up) as median_hours,
    cast({{ count_if('hours_to_first_follow_up <= 1') }} as {{ type_double() }})
        / nullif({{ count_if('hours_to_first_follow_up is not null') }}, 0) as share_within_1h,
    cast({{ count_if('hours_to_first_follow_up <= 24') }} as {{ type_double() }})
        / nullif({{ count_if('hours_to_first_follow_up is not null') }}, 0) as share_within_24h
from by_dimension
group by dimension, dimension_value
