{{ config(materialized='view') }}
-- Rows ingest could not split into fields (C1): undecodable bytes, ragged rows. A view.
select load_id, channel, file_name, file_sha256, sheet, row_number, reason, raw_text, loaded_at
from {{ source('raw', 'quarantine') }}
