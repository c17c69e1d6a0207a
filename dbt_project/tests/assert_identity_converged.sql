-- Logic invariant (error): intake records sharing a linking key must share one lead key. If this
-- fails, label propagation needed more passes: raise var identity_passes.
{{ config(severity='error') }}
select keys.key_type, keys.key_value, count(distinct key_map.lead_key) as lead_keys
from {{ ref('int_identity_keys') }} as keys
inner join {{ ref('int_lead_key_map') }} as key_map on key_map.source_record_id = keys.source_record_id
where keys.entity = 'intake' and keys.links_intake and not keys.is_blocked
group by keys.key_type, keys.key_value
having count(distinct key_map.lead_key) > 1
