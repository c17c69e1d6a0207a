-- Which leads the lead-level models recompute in this build (issue 17, macros/lead_increments.sql).
-- Grain: one row per lead visible in the key map or resolved activities now, plus one per lead the
-- last build had and this one has not (fingerprint NULL). changed: the fingerprint differs from the
-- one the last build stored (or there was none). A full build marks every lead changed.
{%- set previous = last_fingerprints() %}
{#- every staged time a lead-level model compares with the cut-off (the time-only guard reads the
    same ones, leadflow/time_only.py VISIBILITY_TIMES; tests/test_time_only_build.py holds them equal) -#}
{%- set fingerprinted_times = {
    'stg_intake_records': ['event_at', 'status_at', 'closed_at', 'graded_at'],
    'stg_follow_ups': ['contacted_at', 'graded_at'],
    'stg_status_changes': ['changed_at', 'graded_at'],
    'stg_care_actions': ['acted_at'],
} %}
with intake as (
    select
        key_map.lead_key,
        {{ fingerprint_hash(fingerprint_text([
            "'intake'", 'intake.source_record_id', 'intake.loaded_at', 'key_map.original_lead_key',
        ] + visibility_marks('intake', fingerprinted_times['stg_intake_records']))) }} as record_hash
    from {{ ref('stg_intake_records') }} as intake
    inner join {{ ref('int_lead_key_map') }} as key_map
        on key_map.source_record_id = intake.source_record_id
),

activities as (
    {% for entity, model in [('follow_up', 'stg_follow_ups'), ('status', 'stg_status_changes'),
                             ('care_action', 'stg_care_actions')] %}
    select
        resolution.lead_key,
        {{ fingerprint_hash(fingerprint_text([
            "'" ~ entity ~ "'", 'activity.source_record_id', 'activity.loaded_at',
            'resolution.resolved_by',
        ] + visibility_marks('activity', fingerprinted_times[model]))) }} as record_hash
    from {{ ref(model) }} as activity
    inner join {{ ref('int_activity_resolution') }} as resolution
        on resolution.entity = '{{ entity }}'
       and resolution.source_record_id = activity.source_record_id
    where resolution.lead_key is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

fingerprints as (
    select lead_key, bit_xor(record_hash) as fingerprint, count(*) as record_count
    from (
        select lead_key, record_hash from intake
        union all
        select lead_key, record_hash from activities
    ) as records
    group by lead_key
)

{{ fingerprints_changed_since(previous) }}
