{#- Lead routing (issue 9, C5, docs/routing.md). -#}

{# True only in forward runs: the pipeline passes var routing_enabled (C9). Accepts a JSON boolean
   or its text. #}
{% macro routing_enabled() -%}
    {{- return(var('routing_enabled', false) | string | lower in ('true', '1', 'yes')) -}}
{%- endmacro %}

{# The routing log's columns, typed, with no rows: the log's shape before its first row. #}
{% macro empty_routing_log() -%}
    select
        cast(null as {{ dbt.type_string() }}) as lead_key,
        cast(null as {{ dbt.type_string() }}) as owner_name,
        cast(null as {{ dbt.type_string() }}) as rule_name,
        cast(null as {{ dbt.type_string() }}) as pool_name,
        cast(null as {{ dbt.type_timestamp() }}) as assigned_at,
        cast(null as date) as business_date,
        cast(null as {{ dbt.type_string() }}) as previous_owner,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_string() }}) as unassigned_reason,
        cast(null as {{ dbt.type_timestamp() }}) as acquired_at,
        cast(null as integer) as assignment_number
    where 1 = 0
{%- endmacro %}

{# Routing log rows made up to the cut-off, each under its lead's key today: when two leads
   merge, the earlier lead's key survives (C3) and a merged-away key maps to it through the key
   map (a lead key is the source_record_id of one of its records). routing_rank 1 = the lead's
   latest routing: latest time, then a row made under the surviving key, then the latest number. #}
{% macro routing_log_by_lead(log_relation) -%}
    select
        coalesce(key_map.lead_key, routing_log.lead_key) as current_lead_key,
        routing_log.*,
        row_number() over (
            partition by coalesce(key_map.lead_key, routing_log.lead_key)
            order by routing_log.assigned_at desc,
                     case when key_map.lead_key is null or key_map.lead_key = routing_log.lead_key
                          then 0 else 1 end,
                     routing_log.assignment_number desc
        ) as routing_rank
    from {{ log_relation }} as routing_log
    left join {{ ref('int_lead_key_map') }} as key_map
        on key_map.source_record_id = routing_log.lead_key
    where routing_log.assigned_at <= {{ cutoff_utc() }}
{%- endmacro %}
