{{ config(tags=['time_driven']) }}  {#- uses as_of beyond visibility: rebuilt on a new as_of (leadflow/time_only.py) #}
-- Channels with no new file for longer than their YAML allows, as of the run (issue 4, C6):
-- an ops item in the daily email. Grain: one row per stale channel. The validation step writes
-- one `channel_stale` flag per channel and as-of date; this mart keeps the run's date only.
select
    {{ as_of_date() }} as as_of,
    channel,
    file_name as last_file_name,
    observed_value as detail
from {{ ref('stg_dq_flags') }}
where check_name = 'channel_stale'
  and as_of = {{ as_of_date() }}
