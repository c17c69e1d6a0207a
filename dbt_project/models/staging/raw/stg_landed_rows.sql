-- Rows landed per channel and file, counted straight from the raw tables (every version of every
-- record, C1), independently of the load manifest's own bookkeeping, so the data-quality mart can
-- set the two side by side. Grain: one row per raw table, channel, file name and SHA-256.
{% for table in ['intake_records', 'follow_up_records', 'status_records', 'care_action_records', 'owner_records'] %}
select
    '{{ table }}' as raw_table,
    channel,
    file_name,
    file_sha256,
    count(*) as rows_landed
from {{ source('raw', table) }}
group by channel, file_name, file_sha256
{% if not loop.last %}union all{% endif %}
{% endfor %}
