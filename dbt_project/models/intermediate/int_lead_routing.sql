{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false,
          tags=['routing']) }}
-- Routing log (issue 9, C5, docs/routing.md). Grain: one row per owner assignment routing made;
-- append-only. Only forward runs route (var routing_enabled, C9); other runs append nothing.
-- Stored rows are never recomputed, so a re-run or a late file never moves a routed lead, and
-- the log is never full-refreshed (full_refresh=false): it records what owners were told.
-- A forward run routes, at assigned_at = its cut-off (C4, not the wall clock):
--   new_lead        a lead visible at the cut-off, open or a customer, with no human assignment
--                   and never routed
--   owner_inactive  an open lead whose current owner (human or routed) is inactive (previous_owner)
-- Rules (config.routing_*, written from config/routing.yaml by leadflow.routing_rules): the first
-- rule whose every named field holds one of its values; its pool hands leads out round-robin in
-- acquisition order, continuing where the pool stopped, skipping inactive members and members
-- at their capacity for the business day. No rule, no active member or a full pool -> the
-- fallback owner (ops) with unassigned_reason.
-- Every relation is named up front, so the dependencies are the same whether or not this run
-- routes (the routing branch below is only rendered in forward runs).
{%- set first_rules = ref('int_routing_lead_rules') %}
{%- set members = ref('int_routing_pool_members') %}
{%- set profiles = ref('int_lead_profile') %}
{%- set statuses = ref('int_lead_status') %}
{%- set human_owners = ref('int_lead_human_owner') %}
{%- set directory = ref('stg_owners') %}
{%- set key_map = ref('int_lead_key_map') %}  {#- read by routing_log_by_lead #}
{%- set fallback_owner = var('fallback_owner') %}

{% if routing_enabled() %}
with previous_log as (
    {% if is_incremental() %}
    {{ routing_log_by_lead(this) }}
    {% else %}
    {{ routing_log_by_lead('(' ~ empty_routing_log() ~ ')') }}
    {% endif %}
),

-- The owner each lead has before this run: the later of its latest human assignment and its
-- latest routing; at equal times the human one (routing never overrides a human, C5).
current_owner as (
    select
        profile.lead_key,
        profile.acquired_at,
        status.is_open,
        status.is_customer,
        case
            when routed.current_lead_key is not null
                 and (human.assigned_at is null or routed.assigned_at > human.assigned_at)
                then routed.owner_name
            else human.owner_name
        end as owner_name,
        coalesce(numbers_used.last_number, 0) as assignments_before
    from {{ profiles }} as profile
    inner join {{ statuses }} as status on status.lead_key = profile.lead_key
    left join {{ human_owners }} as human on human.lead_key = profile.lead_key
    left join previous_log as routed
        on routed.current_lead_key = profile.lead_key and routed.routing_rank = 1
    left join (
        -- numbering continues after every row of the lead, merged-away keys' rows included
        select current_lead_key, max(assignment_number) as last_number
        from previous_log
        group by current_lead_key
    ) as numbers_used on numbers_used.current_lead_key = profile.lead_key
),

candidates as (
    select
        current_owner.*,
        case when current_owner.owner_name is null then 'new_lead' else 'owner_inactive' end
            as reason,
        owners.owner_name as previous_owner
    from current_owner
    left join {{ directory }} as owners
        on owners.owner_match_key = lower(current_owner.owner_name)
    -- lost and churned leads need no owner; a name not in the directory stays with ops (C5/C6)
    where (current_owner.owner_name is null and (current_owner.is_open or current_owner.is_customer))
       or (current_owner.is_open and owners.owner_name is not null and not coalesce(owners.active, true))
),

-- each lead's first matching rule and its pool (rule matching: int_routing_lead_rules)
first_rule as (
    select * from {{ first_rules }}
),

members as (
    select * from {{ members }}
),

-- Where each pool's rotation continues: the leads it handed out before this run.
pool_history as (
    select pool_name, count(*) as handed_out
    from previous_log
    where unassigned_reason is null
    group by pool_name
),

-- Capacity is per pool member and business day of assignment (this run's as_of).
member_load as (
    select pool_name, owner_name, count(*) as assigned_today
    from previous_log
    where unassigned_reason is null and business_date = {{ as_of_date() }}
    group by pool_name, owner_name
),

queued as (
    select
        first_rule.lead_key,
        first_rule.pool_name,
        row_number() over (
            partition by first_rule.pool_name
            order by candidates.acquired_at asc nulls last, candidates.lead_key
        ) as lead_number
    from first_rule
    inner join candidates on candidates.lead_key = first_rule.lead_key
),

demand as (
    select pool_name, count(*) as lead_count from queued group by pool_name
),

numbers as (
    select row_number() over (order by lead_key) - 1 as n from candidates
),

-- Round-robin with capacity, set-based: a member's n-th lead of this run is slot (n, its turn),
-- turns counted from where the rotation stopped; a member at capacity has no more slots, so the
-- lead passes to the next member. The i-th queued lead takes the i-th slot; none left -> full.
slots as (
    select
        members.pool_name,
        members.owner_name,
        row_number() over (
            partition by members.pool_name
            order by numbers.n,
                     (members.member_index - coalesce(pool_history.handed_out, 0) % members.pool_size
                      + members.pool_size) % members.pool_size
        ) as slot_number
    from members
    inner join demand on demand.pool_name = members.pool_name
    left join pool_history on pool_history.pool_name = members.pool_name
    left join member_load
        on member_load.pool_name = members.pool_name and member_load.owner_name = members.owner_name
    inner join numbers
        on numbers.n < demand.lead_count
       and (members.capacity_per_day is null
            or numbers.n < members.capacity_per_day - coalesce(member_load.assigned_today, 0))
),

staffed_pools as (
    select distinct pool_name from members
)

select
    candidates.lead_key,
    coalesce(slots.owner_name, '{{ fallback_owner }}') as owner_name,
    first_rule.rule_name,
    first_rule.pool_name,
    cast({{ cutoff_utc() }} as {{ dbt.type_timestamp() }}) as assigned_at,
    {{ as_of_date() }} as business_date,
    candidates.previous_owner,
    candidates.reason,
    case
        when first_rule.lead_key is null then 'no_rule_matched'
        when staffed_pools.pool_name is null then 'no_active_owner'
        when slots.owner_name is null then 'pool_full'
    end as unassigned_reason,
    candidates.acquired_at,
    cast(candidates.assignments_before + 1 as integer) as assignment_number
from candidates
left join first_rule on first_rule.lead_key = candidates.lead_key
left join queued on queued.lead_key = candidates.lead_key
left join slots on slots.pool_name = queued.pool_name and slots.slot_number = queued.lead_number
left join staffed_pools on staffed_pools.pool_name = first_rule.pool_name

{% else %}
-- Not a forward run: nothing is routed (C9); the first build creates the empty log.
{{ empty_routing_log() }}
{% endif %}
