{# Custom schemas are used as written (staging, intermediate, ...): mail and BI read `marts.*` by
   name. The marts themselves are built into one of two slot schemas when the pipeline says so
   (leadflow/marts_release.py): `marts.*` become views over the last build that passed. The var
   `mart_slots` gives each mart its slot (a build that rebuilds only some marts reads the others
   where `marts.*` shows them, issue 17); a mart it does not name goes to `marts_schema`. Without
   either var (tests, `make docs`) they are built in `marts` directly. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts' -%}
        {{- var('mart_slots', {}).get(node.name, var('marts_schema', 'marts')) -}}
    {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
