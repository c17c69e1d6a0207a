{#- Where DuckDB and PostgreSQL differ in meaning, one macro with an implementation per adapter
    (adapter.dispatch), so models never branch on target.type (docs/scale-out.md). -#}

{# Strip Unicode space separators (category Zs: U+0020, NBSP, U+1680, U+2000..U+200A, U+202F,
   U+205F, ideographic space U+3000) from both ends; tabs and newlines stay. This is what DuckDB's
   trim() does; PostgreSQL's trim() strips only U+0020, so it gets the same set spelled out. #}
{% macro trim_spaces(expr) -%}
    {{- return(adapter.dispatch('trim_spaces')(expr)) -}}
{%- endmacro %}

{% macro default__trim_spaces(expr) -%}
    trim({{ expr }})
{%- endmacro %}

{% macro duckdb__trim_spaces(expr) -%}
    trim({{ expr }})
{%- endmacro %}

{% macro postgres__trim_spaces(expr) -%}
    {%- set zs = ['0020', '00A0', '1680', '2000', '2001', '2002', '2003', '2004', '2005', '2006',
                  '2007', '2008', '2009', '200A', '202F', '205F', '3000'] -%}
    btrim({{ expr }}, U&'{% for c in zs %}\{{ c }}{% endfor %}')
{%- endmacro %}
