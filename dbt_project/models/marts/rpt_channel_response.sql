-- Response rate per follow-up channel (C8, R11): responded true / responded known, also per the
-- lead's owner and per its grade; plus the share logged within 1 h of the contact (R7).
-- Grain: grouping ('channel' | 'channel_owner' | 'channel_grade') x channel x owner x grade
-- (owner / grade NULL where not grouped; follow_up_channel NULL = not recognised).
with follow_ups as (
    select
        follow_ups.follow_up_channel,
        leads.owner_name,
        leads.grade,
        follow_ups.responded,
        follow_ups.logged_within_1h
    from {{ ref('fct_follow_ups') }} as follow_ups
    inner join {{ ref('dim_leads') }} as leads on leads.lead_key = follow_ups.lead_key
),

{% set groupings = [
    ('channel', "cast(null as " ~ dbt.type_string() ~ ")", "cast(null as " ~ dbt.type_string() ~ ")"),
    ('channel_owner', 'owner_name', "cast(null as " ~ dbt.type_string() ~ ")"),
    ('channel_grade', "cast(null as " ~ dbt.type_string() ~ ")", 'grade'),
] %}
grouped as (
    {% for grouping, owner_expr, grade_expr in groupings %}
    select
        '{{ grouping }}' as grouping,
        follow_up_channel,
        {{ owner_expr }} as owner_name,
        {{ grade_expr }} as grade,
        count(*) as follow_ups,
        {{ count_if("responded is not null") }} as responded_known,
        {{ count_if("responded") }} as responded_true,
        {{ count_if("logged_within_1h is not null") }} as logged_time_known,
        {{ count_if("logged_within_1h") }} as logged_within_1h
    from follow_ups
    group by follow_up_channel, {{ owner_expr }}, {{ grade_expr }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    grouped.*,
    {{ share('responded_true', 'responded_known') }} as response_rate,
    {{ share('logged_within_1h', 'logged_time_known') }} as logged_within_1h_rate
from grouped
