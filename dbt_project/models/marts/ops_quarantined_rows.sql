-- Rows waiting for a person (C1): what ingest could not split into fields, newest first in BI.
-- Grain: one row per quarantined row of a load. Fixing the file and dropping it again loads the
-- row; the quarantine of the earlier load stays as its history.
select
    channel,
    file_name,
    file_sha256,
    sheet,
    row_number,
    reason,
    raw_text,
    load_id,
    loaded_at
from {{ ref('stg_quarantine') }}
