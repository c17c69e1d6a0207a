-- The mart of int_lead_changes (docs in its YAML): the rows are kept and recomputed by lead in
-- the intermediate model (issue 17); a mart is written to a fresh slot each build, so it copies.
select * from {{ ref('int_lead_changes') }}
