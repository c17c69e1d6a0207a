{# C1: the latest version of a source_record_id wins (highest loaded_at, then load_id, then row).
   Most ids have one version: only repeated (or NULL) ids go through the ranking, so the wide raw
   rows are not sorted as a whole (issue 8: that sort was most of a staging model's time). #}
{% macro latest_versions(relation) -%}
    select *
    from (
        with repeated as (
            select source_record_id
            from {{ relation }}
            group by source_record_id
            having count(*) > 1
        )

        select src.*, 1 as version_rank
        from {{ relation }} as src
        where src.source_record_id is not null
          and not exists (
              select 1 from repeated where repeated.source_record_id = src.source_record_id
          )

        union all

        select *
        from (
            select
                src.*,
                row_number() over (
                    partition by src.source_record_id
                    order by src.loaded_at desc, src.load_id desc, src.row_number desc
                ) as version_rank
            from {{ relation }} as src
            where src.source_record_id is null
               or exists (
                   select 1 from repeated where repeated.source_record_id = src.source_record_id
               )
        ) as versions
        where version_rank = 1
    ) as latest_versions
{%- endmacro %}

{# Enumerated values outside the accepted set (seed accepted_values) become NULL; the raw table
   keeps the text and validation has flagged it (C6). #}
{% macro accepted_or_null(column, field_name) -%}
    case when {{ column }} in (
        select accepted.value from {{ ref('accepted_values') }} as accepted
        where accepted.field_name = '{{ field_name }}'
    ) then {{ column }} end
{%- endmacro %}

{# Blank text never matches anything (C3). trim_spaces: the same trim on every adapter. #}
{% macro blank_to_null(column) -%}
    nullif({{ trim_spaces(column) }}, '')
{%- endmacro %}

{# 8-byte floating point for rates and means (dbt.type_float() is 4-byte REAL in DuckDB). #}
{% macro type_double() -%}
    double precision
{%- endmacro %}

{# Counts as BIGINT in every warehouse (DuckDB sums integers into HUGEINT). #}
{% macro count_if(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{# A lead's records newest first: by their own time, then the C1 version order (later load,
   later row), so every "latest record of a lead" pick breaks ties the same way. #}
{% macro newest_first(time_column) -%}
    {{ time_column }} desc nulls last, loaded_at desc, load_id desc, source_row_number desc
{%- endmacro %}

{# A lead's observations in the order they happened (C8 observation time): timeless ones first
   (ordered before every dated record), then by time, then the C1 version order, then the record
   id, so every sequence and every "previous value" over them is the same order. #}
{% macro oldest_first(time_column) -%}
    {{ time_column }} asc nulls first, loaded_at asc, load_id asc, source_row_number asc,
    source_record_id asc
{%- endmacro %}

{# The lineage (C1) of the records of `models` (intermediate record models), one row per
   record: where it was read (channel, file, row, sheet), for joining by source_record_id. #}
{% macro record_lineage(models) -%}
    {%- for model in models %}
    select source_record_id, channel, file_name, source_row_number, source_sheet
    from {{ ref(model) }}
    {%- if not loop.last %}
    union all{% endif %}
    {%- endfor %}
{%- endmacro %}
