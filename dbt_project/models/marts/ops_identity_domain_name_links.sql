-- Every link made by the corporate email domain + full person name rule (C3), for an analyst to
-- audit: each intake record the rule groups with others, beside the group's earliest record.
-- Grain: one row per key value and linked record (the group's earliest record is the anchor of
-- every row, not a row itself). linked_by_contact_too: the two also share an email or mobile, so
-- the rule alone did not make that merge.
with rule_keys as (
    select key_value, source_record_id
    from {{ ref('int_identity_keys') }}
    where entity = 'intake' and key_type = 'domain_person' and not is_blocked
),

records as (
    select
        rule_keys.key_value,
        intake.source_record_id,
        key_map.lead_key,
        intake.person_name,
        intake.company,
        intake.email,
        intake.channel,
        intake.file_name,
        intake.source_row_number,
        row_number() over (
            partition by rule_keys.key_value
            order by intake.event_at asc nulls last, intake.loaded_at asc, intake.source_record_id asc
        ) as position_on_key
    from rule_keys
    inner join {{ ref('stg_intake_records') }} as intake
        on intake.source_record_id = rule_keys.source_record_id
    inner join {{ ref('int_lead_key_map') }} as key_map
        on key_map.source_record_id = rule_keys.source_record_id
),

contact_keys as (
    select source_record_id, key_type || ':' || key_value as contact_key
    from {{ ref('int_identity_keys') }}
    where entity = 'intake' and key_type in ('email', 'phone') and not is_blocked
),

pairs as (
    select anchor.key_value, anchor.source_record_id as anchor_id, linked.source_record_id as linked_id
    from records as anchor
    inner join records as linked
        on linked.key_value = anchor.key_value
       and anchor.position_on_key = 1
       and linked.position_on_key > 1
),

shared_contacts as (
    select distinct pairs.key_value, pairs.linked_id
    from pairs
    inner join contact_keys as anchor_keys on anchor_keys.source_record_id = pairs.anchor_id
    inner join contact_keys as linked_keys
        on linked_keys.source_record_id = pairs.linked_id
       and linked_keys.contact_key = anchor_keys.contact_key
)

select
    pairs.key_value,
    linked.lead_key,
    anchor.source_record_id as anchor_record_id,
    anchor.person_name as anchor_person_name,
    anchor.company as anchor_company,
    anchor.email as anchor_email,
    anchor.file_name as anchor_file_name,
    anchor.source_row_number as anchor_row_number,
    linked.source_record_id as linked_record_id,
    linked.person_name as linked_person_name,
    linked.company as linked_company,
    linked.email as linked_email,
    linked.file_name as linked_file_name,
    linked.source_row_number as linked_row_number,
    shared_contacts.linked_id is not null as linked_by_contact_too
from pairs
inner join records as anchor
    on anchor.key_value = pairs.key_value and anchor.source_record_id = pairs.anchor_id
inner join records as linked
    on linked.key_value = pairs.key_value and linked.source_record_id = pairs.linked_id
left join shared_contacts
    on shared_contacts.key_value = pairs.key_value and shared_contacts.linked_id = pairs.linked_id
