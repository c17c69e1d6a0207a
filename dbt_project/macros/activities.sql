{#
  Activity records of one entity visible at the cut-off (C4: event before it, or timeless), with
  the lead they resolve to (C3). One row per record; unresolved ones are kept (lead_key NULL).
  `at` is the event timestamp; its business date is added as `on`.
#}
{% macro visible_activities(staging_model, entity, at, on) -%}
    select
        resolution.lead_key,
        resolution.resolution_status,
        resolution.resolved_by,
        resolution.candidate_lead_keys,
        activity.*,
        {{ business_date('activity.' ~ at) }} as {{ on }}
    from {{ ref(staging_model) }} as activity
    inner join {{ ref('int_activity_resolution') }} as resolution
        on resolution.entity = '{{ entity }}'
       and resolution.source_record_id = activity.source_record_id
    where {{ visible_at_cutoff('activity.' ~ at) }}
      and {{ touched('resolution.lead_key', with_unresolved=true) }}  {#- issue 17 #}
{%- endmacro %}
