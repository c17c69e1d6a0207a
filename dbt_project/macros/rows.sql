{# The columns of one row of a union, in the order of `columns` ([(name, SQL type)]): those in
   `values` ({name: SQL}) as given, every other one a NULL of its type. Sections of a union that
   carry different columns (queue items, report cases) then line up by position without
   hand-counted NULL lists, and each NULL is typed (PostgreSQL types a union by its first
   section). #}
{% macro typed_row(columns, values) -%}
    {%- for name, type in columns %}
        {{ values.get(name, 'cast(null as ' ~ type ~ ')') }} as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
