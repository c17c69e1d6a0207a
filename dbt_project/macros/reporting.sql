{#- Period reports (R11, C8 Periods): the same rows counted for the organisation, per team (the
    owner directory's manager) and per rep, so one mart answers all three. -#}

{# Rows of `cte` once per scope they belong to: organisation (scope_name 'all'), their team
   (column team_name) and their rep (column owner_name). With `total`, each row also counts once
   under the dimension value '(all)' (is_total), beside its own value of column `dim`. #}
{% macro report_scopes(cte, total=false) -%}
    {%- set scoped -%}
        select 'organisation' as scope, 'all' as scope_name, scoped_rows.* from {{ cte }} as scoped_rows
        union all
        select 'team', scoped_rows.team_name, scoped_rows.* from {{ cte }} as scoped_rows
        where scoped_rows.team_name is not null
        union all
        select 'rep', scoped_rows.owner_name, scoped_rows.* from {{ cte }} as scoped_rows
        where scoped_rows.owner_name is not null
    {%- endset -%}
    {%- if total %}
    select by_value.*, by_value.dim as dim_value, false as is_total from ({{ scoped }}) as by_value
    union all
    select all_values.*, '(all)', true from ({{ scoped }}) as all_values
    {%- else %}
    {{ scoped }}
    {%- endif %}
{%- endmacro %}

{# Rows whose business date `on` falls in a period: period_start <= on < period_end. #}
{% macro in_period(on, periods='periods') -%}
    ({{ on }} >= {{ periods }}.period_start and {{ on }} < {{ periods }}.period_end)
{%- endmacro %}

{# A share with a zero denominator is unknown (NULL), never 0. #}
{% macro share(numerator, denominator) -%}
    case when ({{ denominator }}) > 0
         then cast({{ numerator }} as {{ type_double() }}) / ({{ denominator }}) end
{%- endmacro %}
