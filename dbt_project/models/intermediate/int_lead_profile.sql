{{ lead_incremental_config() }}
-- One row per lead visible at as_of: acquisition, source and descriptive fields (C3, C8).
--   acquisition = event time of the earliest timed intake record; none -> unknown (NULL)
--   source      = that record's source label, else the label of the first-loaded record
--   descriptive fields = the latest record (event time, then load) with a valid value, so a
--   corrected row supersedes an old one
{% set descriptive = [
    ('person_name', 'person_name is not null'),
    ('person_key', 'person_key is not null'),
    ('title', 'title is not null'),
    ('company', 'company is not null'),
    ('company_key', 'company_key is not null'),
    ('industry', 'industry is not null'),
    ('city', 'city is not null'),
    ('province', 'province is not null'),
    ('company_size', 'company_size is not null'),
    ('need', 'need is not null'),
    ('background', 'background is not null'),
    ('plan_text', 'plan_text is not null'),
    ('notes', 'notes is not null'),
    ('first_responder', 'first_responder is not null'),
    ('phone', 'phone_valid'),
    ('phone_kind', 'phone_valid'),
    ('email', 'email_valid'),
] %}
-- One recency order per lead (issue 8: one sort, not one per field); each field then takes the
-- first record in that order with a valid value.
with records as (
    select
        records.*,
        row_number() over (
            partition by lead_key
            order by {{ newest_first("event_at") }}
        ) as recency_rank
    from {{ ref('int_lead_intake_records') }} as records
    where {{ touched('records.lead_key') }}
),

picks as (
    select
        lead_key,
        {% for field, is_valid in descriptive %}
        min(case when {{ is_valid }} then recency_rank end) as {{ field }}_pick{% if not loop.last %},{% endif %}
        {% endfor %}
    from records
    group by lead_key
)

select
    records.lead_key,
    min(case when records.acquisition_rank = 1 then records.event_at end) as acquired_at,
    min(case when records.acquisition_rank = 1 then records.event_on end) as acquired_on,
    coalesce(
        min(case when records.acquisition_rank = 1 and records.event_at is not null then records.source_label end),
        min(case when records.load_rank = 1 then records.source_label end)
    ) as source_label,
    min(case when records.acquisition_rank = 1 then records.channel end) as first_channel,
    {% for field, is_valid in descriptive %}
    min(case when records.recency_rank = picks.{{ field }}_pick then records.{{ field }} end) as {{ field }},
    {% endfor %}
    {{ plan_goal("min(case when records.recency_rank = picks.plan_text_pick then records.plan_text end)") }}
        as plan_goal,
    count(*) as intake_record_count,
    count(distinct records.channel) as channel_count,
    {{ dbt.listagg('distinct records.channel', "', '", 'order by records.channel') }} as channels
from records
inner join picks on picks.lead_key = records.lead_key
group by records.lead_key
