{#
  Sheet restatements (C1, C3): a dated line of a sheet cell (跟进记录, 关系维护动作) often restates a
  timed record the CRM exported too. An activity known only by its date restates another record
  of the same lead with a time of day on the same business date and of the same kind; it is kept
  (lineage) but not counted twice. Returns one row per restating record with the record it restates.
#}
{% macro restatements(visible, at, on, kind) -%}
    select
        sheet.source_record_id,
        min(other.source_record_id) as restates_record_id
    from {{ visible }} as sheet
    inner join {{ visible }} as other
        on other.lead_key = sheet.lead_key
       and other.{{ on }} = sheet.{{ on }}
       and other.{{ kind }} = sheet.{{ kind }}
       and other.source_record_id <> sheet.source_record_id
       and other.{{ at }}_is_date_only is not true
    where sheet.{{ at }}_is_date_only
    group by sheet.source_record_id
{%- endmacro %}
