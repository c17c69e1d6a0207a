-- Conversion per source and monthly acquisition cohort (C8, R11). Grain: source_label x cohort.
--   conversion_rate = won / leads; intent_rate = leads that reached intent or won / leads
-- Leads without a timed intake record have an unknown cohort (NULL) and are still counted.
select
    source_label,
    acquisition_cohort,
    count(*) as leads,
    {{ count_if("is_won") }} as won_leads,
    {{ count_if("reached_intent") }} as intent_or_won_leads,
    {{ count_if("is_lost") }} as lost_leads,
    {{ count_if("is_open") }} as open_leads,
    cast({{ count_if("is_won") }} as {{ type_double() }}) / count(*) as conversion_rate,
    cast({{ count_if("reached_intent") }} as {{ type_double() }}) / count(*) as intent_rate
from {{ ref('dim_leads') }}
group by source_label, acquisition_cohort
