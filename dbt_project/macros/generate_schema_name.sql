{# Custom schemas are used as written (staging, intermediate, ...): mail and BI read `marts.*` by
   name. The marts themselves are built into the schema var `marts_schema` names when the pipeline
   sets it (one of two slots, leadflow/marts_release.py): `marts.*` become views over the last
   build that passed. Without the var (tests, `make docs`) they are built in `marts` directly. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts' -%}{{ var('marts_schema', 'marts') }}
    {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
