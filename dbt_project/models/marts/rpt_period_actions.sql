-- What to change (R11's closed loop): every rule of the seed analysis_rules that fires on a
-- period's figures, with the figures that made it fire and the suggested action in Chinese and
-- English. Managers tune threshold and min_volume (or switch a rule off) in the seed; each
-- rule's condition is below, one block per rule_id. Evaluated for every period of the trend,
-- so a rule's history is one query. Grain: period_kind x period_start x scope x scope_name x
-- rule_id x subject (the source, channel or reason concerned; '(all)' for scope-wide figures).
with rules as (
    select * from {{ ref('analysis_rules') }} where enabled
),

conversion as (
    select
        c.*,
        sum(case when not is_total then leads_acquired else 0 end)
            over (partition by period_kind, period_start, scope, scope_name) as scope_leads,
        sum(case when not is_total then won_to_date else 0 end)
            over (partition by period_kind, period_start, scope, scope_name) as scope_won
    from {{ ref('rpt_period_source_conversion') }} as c
),

source_conversion_below_others as (
    -- observed: the source's conversion to date; compared: the other sources' together
    {{ rule_fires('source_conversion_below_others', 'conversion', 'c', 'c.source_label',
        observed='c.conversion_to_date',
        compared='cast(c.scope_won - c.won_to_date as ' ~ type_double() ~ ') / (c.scope_leads - c.leads_acquired)',
        volume='c.leads_acquired') }}
    where not c.is_total
      and c.leads_acquired >= rules.min_volume
      and c.scope_leads - c.leads_acquired >= rules.min_volume
      and c.conversion_to_date < rules.threshold
          * (cast(c.scope_won - c.won_to_date as {{ type_double() }}) / (c.scope_leads - c.leads_acquired))
),

channels as (
    select
        phone.period_kind, phone.period_start, phone.period_end, phone.period_index,
        phone.scope, phone.scope_name,
        phone.response_rate as phone_rate,
        phone.responded_known as phone_known,
        coalesce(email.open_rate, email.response_rate) as email_rate,
        case when email.open_rate is not null then email.opened_known
             else email.responded_known end as email_known
    from {{ ref('rpt_period_channel_response') }} as phone
    inner join {{ ref('rpt_period_channel_response') }} as email
        on email.period_kind = phone.period_kind and email.period_start = phone.period_start
       and email.scope = phone.scope and email.scope_name = phone.scope_name
       and email.follow_up_channel = 'email'
    where phone.follow_up_channel = 'phone'
),

call_response_below_email as (
    -- observed: phone response rate; compared: email open rate where known, else response rate
    {{ rule_fires('call_response_below_email', 'channels', 'ch', "'phone'",
        observed='ch.phone_rate',
        compared='ch.email_rate',
        volume='ch.phone_known') }}
    where ch.phone_known >= rules.min_volume and ch.email_known >= rules.min_volume
      and ch.phone_rate < ch.email_rate - rules.threshold
),

discipline as (
    select * from {{ ref('rpt_period_discipline') }}
),

grading_sla_below_target as (
    {{ rule_fires('grading_sla_below_target', 'discipline', 'd', "'(all)'",
        observed='d.graded_within_24h_share',
        compared='rules.threshold',
        volume='d.graded_within_24h + d.grading_breached') }}
    where d.graded_within_24h + d.grading_breached >= rules.min_volume
      and d.graded_within_24h_share < rules.threshold
),

logging_below_target as (
    {{ rule_fires('logging_below_target', 'discipline', 'd', "'(all)'",
        observed='d.logged_within_1h_share',
        compared='rules.threshold',
        volume='d.logged_time_known') }}
    where d.logged_time_known >= rules.min_volume and d.logged_within_1h_share < rules.threshold
),

overdue_backlog_growing as (
    {{ rule_fires('overdue_backlog_growing', 'discipline', 'd', "'(all)'",
        observed='cast(d.overdue_at_end as ' ~ type_double() ~ ')',
        compared='cast(d.previous_overdue_at_end as ' ~ type_double() ~ ')',
        volume='d.overdue_at_end') }}
    where d.overdue_at_end >= rules.min_volume
      and d.overdue_at_end > d.previous_overdue_at_end * (1 + rules.threshold)
),

wins_dropped as (
    {{ rule_fires('wins_dropped', ref('rpt_period_source_conversion'), 'c', "'(all)'",
        observed='cast(c.leads_won as ' ~ type_double() ~ ')',
        compared='cast(c.previous_leads_won as ' ~ type_double() ~ ')',
        volume='c.previous_leads_won') }}
    where c.is_total and c.previous_leads_won >= rules.min_volume
      and c.leads_won < c.previous_leads_won * (1 - rules.threshold)
),

cycle_time_longer as (
    {{ rule_fires('cycle_time_longer', ref('rpt_period_cycle_by_grade'), 'c', "'(all)'",
        observed='c.median_days',
        compared='c.previous_median_days',
        volume='c.won_leads') }}
    where c.is_total and c.won_leads >= rules.min_volume
      and c.median_days > c.previous_median_days * (1 + rules.threshold)
),

dominant_loss_reason as (
    {{ rule_fires('dominant_loss_reason', ref('rpt_period_lost_reasons'), 'r', 'r.churn_category',
        observed='r.share_of_closed',
        compared='rules.threshold',
        volume='totals.closed_leads') }}
    inner join {{ ref('rpt_period_lost_reasons') }} as totals
        on totals.period_kind = r.period_kind and totals.period_start = r.period_start
       and totals.scope = r.scope and totals.scope_name = r.scope_name and totals.is_total
    where not r.is_total and r.churn_category <> 'other'
      and totals.closed_leads >= rules.min_volume and r.share_of_closed >= rules.threshold
),

fired as (
    {% for rule in ['source_conversion_below_others', 'call_response_below_email',
                    'grading_sla_below_target', 'logging_below_target',
                    'overdue_backlog_growing', 'wins_dropped', 'cycle_time_longer',
                    'dominant_loss_reason'] -%}
    select * from {{ rule }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    fired.period_kind,
    fired.period_start,
    fired.period_end,
    fired.period_index,
    fired.scope,
    fired.scope_name,
    fired.rule_id,
    fired.subject,
    rules.figure,
    rules.condition,
    fired.observed_value,
    fired.compared_value,
    rules.threshold,
    fired.volume,
    rules.min_volume,
    rules.action_zh,
    rules.action_en
from fired
inner join rules on rules.rule_id = fired.rule_id
