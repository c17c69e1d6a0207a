{{ config(materialized='view') }}
-- Rule matching for routing (docs/routing.md, C5): each lead routing may consider (open leads and
-- customers: lost and churned leads need no owner) with the first rule, in rule order, whose
-- every named field holds one of its values; a rule without fields (the default) matches every
-- lead. Values are compared trimmed and lower-cased, like stg_routing_rule_matches; tags are
-- every tag of every visible intake record, split on , ; ， ； 、 |. A view: only forward runs
-- read it (int_lead_routing), so a backfill computes none of it. Grain: one row per lead with a
-- matching rule (none when no rule matches).
{%- set match_columns = [
    ('source', 'source_label'), ('channel', 'first_channel'), ('city', 'city'),
    ('province', 'province'), ('industry', 'industry'), ('company_size', 'company_size'),
] %}
with leads as (
    select profile.*
    from {{ ref('int_lead_profile') }} as profile
    inner join {{ ref('int_lead_status') }} as status on status.lead_key = profile.lead_key
    where status.is_open or status.is_customer
),

-- (lead, field, value); a NULL value matches nothing
lead_values as (
    {% for field, column in match_columns %}
    select lead_key, '{{ field }}' as field, lower({{ trim_spaces(column) }}) as value
    from leads
    union all
    {% endfor %}
    select lead_key, 'tags', lower({{ trim_spaces('tag') }})
    from (
        select
            intake.lead_key,
            unnest(regexp_split_to_array(intake.tags, '[,;，；、|]+')) as tag
        from {{ ref('int_lead_intake_records') }} as intake
        inner join leads on leads.lead_key = intake.lead_key
        where intake.tags is not null
    ) as split_tags
),

rule_hits as (
    select lead_values.lead_key, rule_matches.rule_order, count(distinct rule_matches.field) as fields_hit
    from lead_values
    inner join {{ ref('stg_routing_rule_matches') }} as rule_matches
        on rule_matches.field = lead_values.field and rule_matches.value = lead_values.value
    group by lead_values.lead_key, rule_matches.rule_order
),

ranked as (
    select
        leads.lead_key,
        rules.rule_name,
        rules.pool_name,
        row_number() over (partition by leads.lead_key order by rules.rule_order) as rule_rank
    from leads
    cross join {{ ref('int_routing_rules') }} as rules
    left join rule_hits
        on rule_hits.lead_key = leads.lead_key and rule_hits.rule_order = rules.rule_order
    where coalesce(rule_hits.fields_hit, 0) = rules.field_count
)

select lead_key, rule_name, pool_name
from ranked
where rule_rank = 1
