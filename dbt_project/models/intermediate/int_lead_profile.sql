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
    ('phone', 'phone_valid'),
    ('phone_kind', 'phone_valid'),
    ('email', 'email_valid'),
] %}
with records as (
    select
        records.*,
        {% for field, is_valid in descriptive %}
        row_number() over (
            partition by lead_key
            order by case when {{ is_valid }} then 0 else 1 end,
                     event_at desc nulls last, loaded_at desc, load_id desc, source_row_number desc
        ) as {{ field }}_rank{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('int_lead_intake_records') }} as records
)

select
    lead_key,
    min(case when acquisition_rank = 1 then event_at end) as acquired_at,
    min(case when acquisition_rank = 1 then event_on end) as acquired_on,
    coalesce(
        min(case when acquisition_rank = 1 and event_at is not null then source_label end),
        min(case when load_rank = 1 then source_label end)
    ) as source_label,
    min(case when acquisition_rank = 1 then channel end) as first_channel,
    {% for field, is_valid in descriptive %}
    min(case when {{ field }}_rank = 1 and {{ is_valid }} then {{ field }} end) as {{ field }},
    {% endfor %}
    count(*) as intake_record_count,
    count(distinct channel) as channel_count,
    {{ dbt.listagg('distinct channel', "', '", 'order by channel') }} as channels
from records
group by lead_key
