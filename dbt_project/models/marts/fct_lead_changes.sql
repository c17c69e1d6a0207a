-- The mart of int_lead_changes (docs in its YAML): its rows are kept and recomputed
-- by lead there (issue 17); a mart is written to a fresh slot each build, so this copies them.
select * from {{ ref('int_lead_changes') }}
