{{ config(materialized='view') }}
-- Ingest's bookkeeping (C1): one row per file and load (loaded, skipped or rejected), with the
-- conservation counts. A view: the data-quality marts read it as ingest wrote it.
select *
from {{ source('raw', 'load_manifest') }}
