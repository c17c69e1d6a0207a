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
    select
        c.period_kind, c.period_start, c.period_end, c.period_index, c.scope, c.scope_name,
        rules.rule_id, c.source_label as subject,
        c.conversion_to_date as observed_value,
        cast(c.scope_won - c.won_to_date as {{ type_double() }}) / (c.scope_leads - c.leads_acquired)
            as compared_value,
        cast(c.leads_acquired as {{ type_double() }}) as volume
    from conversion as c
    inner join rules on rules.rule_id = 'source_conversion_below_others'
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
    select
        ch.period_kind, ch.period_start, ch.period_end, ch.period_index, ch.scope, ch.scope_name,
        rules.rule_id, 'phone' as subject,
        ch.phone_rate as observed_value, ch.email_rate as compared_value,
        cast(ch.phone_known as {{ type_double() }}) as volume
    from channels as ch
    inner join rules on rules.rule_id = 'call_response_below_email'
    where ch.phone_known >= rules.min_volume and ch.email_known >= rules.min_volume
      and ch.phone_rate < ch.email_rate - rules.threshold
),

discipline as (
    select * from {{ ref('rpt_period_discipline') }}
),

grading_sla_below_target as (
    select
        d.period_kind, d.period_start, d.period_end, d.period_index, d.scope, d.scope_name,
        rules.rule_id, '(all)' as subject,
        d.graded_within_24h_share as observed_value, rules.threshold as compared_value,
        cast(d.graded_within_24h + d.grading_breached as {{ type_double() }}) as volume
    from discipline as d
    inner join rules on rules.rule_id = 'grading_sla_below_target'
    where d.graded_within_24h + d.grading_breached >= rules.min_volume
      and d.graded_within_24h_share < rules.threshold
),

logging_below_target as (
    select
        d.period_kind, d.period_start, d.period_end, d.period_index, d.scope, d.scope_name,
        rules.rule_id, '(all)' as subject,
        d.logged_within_1h_share as observed_value, rules.threshold as compared_value,
        cast(d.logged_time_known as {{ type_double() }}) as volume
    from discipline as d
    inner join rules on rules.rule_id = 'logging_below_target'
    where d.logged_time_known >= rules.min_volume and d.logged_within_1h_share < rules.threshold
),

overdue_backlog_growing as (
    select
        d.period_kind, d.period_start, d.period_end, d.period_index, d.scope, d.scope_name,
        rules.rule_id, '(all)' as subject,
        cast(d.overdue_at_end as {{ type_double() }}) as observed_value,
        cast(d.previous_overdue_at_end as {{ type_double() }}) as compared_value,
        cast(d.overdue_at_end as {{ type_double() }}) as volume
    from discipline as d
    inner join rules on rules.rule_id = 'overdue_backlog_growing'
    where d.overdue_at_end >= rules.min_volume
      and d.overdue_at_end > d.previous_overdue_at_end * (1 + rules.threshold)
),

wins_dropped as (
    select
        c.period_kind, c.period_start, c.period_end, c.period_index, c.scope, c.scope_name,
        rules.rule_id, '(all)' as subject,
        cast(c.leads_won as {{ type_double() }}) as observed_value,
        cast(c.previous_leads_won as {{ type_double() }}) as compared_value,
        cast(c.previous_leads_won as {{ type_double() }}) as volume
    from {{ ref('rpt_period_source_conversion') }} as c
    inner join rules on rules.rule_id = 'wins_dropped'
    where c.is_total and c.previous_leads_won >= rules.min_volume
      and c.leads_won < c.previous_leads_won * (1 - rules.threshold)
),

cycle_time_longer as (
    select
        c.period_kind, c.period_start, c.period_end, c.period_index, c.scope, c.scope_name,
        rules.rule_id, '(all)' as subject,
        c.median_days as observed_value, c.previous_median_days as compared_value,
        cast(c.won_leads as {{ type_double() }}) as volume
    from {{ ref('rpt_period_cycle_by_grade') }} as c
    inner join rules on rules.rule_id = 'cycle_time_longer'
    where c.is_total and c.won_leads >= rules.min_volume
      and c.median_days > c.previous_median_days * (1 + rules.threshold)
),

dominant_loss_reason as (
    select
        r.period_kind, r.period_start, r.period_end, r.period_index, r.scope, r.scope_name,
        rules.rule_id, r.churn_category as subject,
        r.share_of_closed as observed_value, rules.threshold as compared_value,
        cast(totals.closed_leads as {{ type_double() }}) as volume
    from {{ ref('rpt_period_lost_reasons') }} as r
    inner join {{ ref('rpt_period_lost_reasons') }} as totals
        on totals.period_kind = r.period_kind and totals.period_start = r.period_start
       and totals.scope = r.scope and totals.scope_name = r.scope_name and totals.is_total
    inner join rules on rules.rule_id = 'dominant_loss_reason'
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
