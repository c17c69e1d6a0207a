{#- C4: one business date (as_of) and one cut-off per run. Nothing here reads the wall clock. -#}

{% macro as_of_value() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none or as_of | string | trim == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error("var 'as_of' (business date YYYY-MM-DD) is required: dbt build --vars '{\"as_of\": \"2026-01-31\"}'") }}
        {%- endif -%}
        {%- set as_of = '1970-01-01' -%}  {#- parse time only -#}
    {%- endif -%}
    {%- set as_of = as_of | string | trim -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', as_of) -%}
        {{ exceptions.raise_compiler_error("var 'as_of' must be a date YYYY-MM-DD, got: " ~ as_of) }}
    {%- endif -%}
    {{- return(as_of) -}}
{%- endmacro %}

{% macro business_timezone() -%}
    {{- return(var('business_timezone', 'Asia/Shanghai')) -}}
{%- endmacro %}

{# The run's business date, as a DATE literal. #}
{% macro as_of_date() -%}
    cast('{{ as_of_value() }}' as date)
{%- endmacro %}

{# 00:00 business time at the start of as_of, as a naive UTC timestamp: only events strictly before
   it count (C4). Same expression in DuckDB and PostgreSQL. #}
{% macro cutoff_utc() -%}
    ((cast('{{ as_of_value() }} 00:00:00' as timestamp) at time zone '{{ business_timezone() }}') at time zone 'UTC')
{%- endmacro %}

{# A naive UTC timestamp -> the business date it falls on. #}
{% macro business_date(ts) -%}
    cast(((({{ ts }}) at time zone 'UTC') at time zone '{{ business_timezone() }}') as date)
{%- endmacro %}

{# Visible at the cut-off: before it, or timeless (C2: visible at every as_of). #}
{% macro visible_at_cutoff(ts) -%}
    ({{ ts }} is null or {{ ts }} < {{ cutoff_utc() }})
{%- endmacro %}

{# Whole days from one date to another (b - a), portable. #}
{% macro days_between(a, b) -%}
    {{ dbt.datediff(a, b, 'day') }}
{%- endmacro %}

{% macro add_days(n, d) -%}
    cast({{ dbt.dateadd('day', n, d) }} as date)
{%- endmacro %}
