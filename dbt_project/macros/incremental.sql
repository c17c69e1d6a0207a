{#
  Issue 17: the staging models of the big raw tables are incremental. Raw tables are append-only
  (C1): a load brings new records and new versions of known ones. An incremental build takes every
  raw row of each source_record_id that a load since the last build touched (all its versions, so
  the C1 latest-version rule still decides), and replaces those ids in the model (delete+insert on
  source_record_id). The newest load already built is taken again (>=), so a build killed after a
  model was written redoes it rather than skipping rows. Assumes load times grow with each load (the
  loader stamps them at commit, under the run lock).

  A full rebuild of these models is the var `rebuild_staging` (the pipeline sets it whenever the
  dbt project or the timezone changed since the last build that passed, and for `leadflow run
  --full-refresh`), not dbt's --full-refresh: that would also recompute the two models that keep
  history by contract, the key map (C3: keys never change) and the routing log (what owners were
  told), which stay incremental. The same var rebuilds int_identity_keys and
  int_activity_resolution from all records, and makes the key map compute its components over all
  records instead of the leads new records can reach (it keeps its keys).
#}
{% macro versions_to_build(relation) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where source_record_id in (
        select source_record_id
        from {{ relation }}
        where loaded_at >= (select max(loaded_at) from {{ this }})
    )
    {%- endif %}
{%- endmacro %}

{% macro staging_incremental_config() -%}
    {{ config(
        materialized='incremental',
        unique_key='source_record_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        full_refresh=(true if var('rebuild_staging', false) else none)
    ) }}
{%- endmacro %}
