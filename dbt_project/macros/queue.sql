{#- The owner queue (ops_owner_queue, C8 queue item types). -#}

{# One item row of the queue in the item columns' order: `values` maps the columns an item type
   has to their SQL; every other column is a typed NULL. So each item type's select names only
   what it carries, and the sections (int_owner_queue_items, ops_owner_queue) union by position. #}
{% macro queue_item(values) -%}
    {%- set columns = [
        ('lead_key', dbt.type_string()), ('item_type', dbt.type_string()),
        ('due_basis', dbt.type_string()), ('contact_days', dbt.type_int()),
        ('next_due', 'date'), ('days_overdue', dbt.type_int()), ('days_past_due', dbt.type_int()),
        ('grade_due_at', dbt.type_timestamp()), ('waiting_since', dbt.type_timestamp()),
        ('survey_due_on', 'date'), ('report_due_on', 'date'), ('greeting_due_on', 'date'),
        ('greeting_occasion', dbt.type_string()), ('content_kind', dbt.type_string()),
        ('last_content_on', 'date'), ('missing_fields', dbt.type_string()),
        ('record_id', dbt.type_string()), ('record_actor', dbt.type_string()),
        ('record_at', dbt.type_timestamp()), ('record_channel', dbt.type_string()),
        ('feedback', dbt.type_string()), ('vague_reason', dbt.type_string()),
    ] -%}
    {{- typed_row(columns, values) -}}
{%- endmacro %}

{# Days an item is past its own due date `due` at as_of; 0 when due today or later. #}
{% macro days_past(due) -%}
    case when {{ due }} < {{ as_of_date() }} then {{ days_between(due, as_of_date()) }} else 0 end
{%- endmacro %}
