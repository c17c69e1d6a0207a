-- Status of every lead at as_of (C8). Grain: one row per lead.
--   status  = latest status observation before the cut-off, default potential
--   won     = ever won before the cut-off; lost = current status lost and never won
--   churned = current status lost after a win (care stops); open = neither won nor lost
with events as (
    select * from {{ ref('int_lead_status_events') }}
),

per_lead as (
    select
        lead_key,
        max(case when is_current then status end) as current_status,
        max(case when is_current then event_at end) as status_changed_at,
        max(case when status = 'won' then 1 else 0 end) = 1 as is_won,
        min(case when status = 'won' then event_at end) as first_won_at,
        max(case when status = 'intent' or status = 'won' then 1 else 0 end) = 1 as reached_intent,
        max(case when is_current and status = 'lost' then lost_reason end) as lost_reason,
        max(case when status = 'won' then deal_value end) as deal_value
    from events
    group by lead_key
)

select
    leads.lead_key,
    coalesce(per_lead.current_status, 'potential') as current_status,
    per_lead.status_changed_at,
    coalesce(per_lead.is_won, false) as is_won,
    per_lead.first_won_at,
    {{ business_date('per_lead.first_won_at') }} as first_won_on,
    coalesce(per_lead.reached_intent, false) as reached_intent,
    coalesce(per_lead.current_status = 'lost' and not per_lead.is_won, false) as is_lost,
    coalesce(per_lead.current_status = 'lost' and per_lead.is_won, false) as is_churned,
    not coalesce(per_lead.is_won or per_lead.current_status = 'lost', false) as is_open,
    coalesce(per_lead.is_won and per_lead.current_status <> 'lost', false) as is_customer,
    per_lead.lost_reason,
    per_lead.deal_value
from {{ ref('int_lead_profile') }} as leads
left join per_lead on per_lead.lead_key = leads.lead_key
