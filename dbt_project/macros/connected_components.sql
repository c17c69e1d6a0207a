{#
  Connected components, set-based (C3). Emits CTEs (no leading WITH, trailing comma):
    labels_<passes>(node_id, label)  -- label = smallest node_id of the node's component
  nodes_cte:  (node_id integer)       every node
  edges_cte:  (node_id, group_key)    nodes sharing a group_key are connected
  Each pass hooks every node to the smallest label among the groups it belongs to, then jumps
  pointers (a node adopts its label's label), so distances shrink geometrically; the singular test
  assert_identity_converged fails if `passes` ever was too few.
  Issue 8 (same result, less work per pass): a group with one member connects nothing, so it is
  dropped, and the nodes left without a group are their own component (label = node_id) and skip
  the passes; group keys (long text) are numbered once so every pass joins on integers. The ids
  are only join keys, never labels, so their order does not matter.
  MATERIALIZED keeps each pass computed once (DuckDB and PostgreSQL 12+).
#}
{% macro connected_components(nodes_cte, edges_cte, passes) %}
    cc_groups as materialized (
        select group_key, row_number() over () as group_id
        from {{ edges_cte }}
        group by group_key
        having count(*) > 1
    ),
    cc_edges as materialized (
        select e.node_id, g.group_id
        from {{ edges_cte }} as e
        inner join cc_groups as g on g.group_key = e.group_key
    ),
    cc_labels_0 as materialized (
        select distinct node_id, node_id as label from cc_edges
    ),
    {% for i in range(1, passes + 1) %}
    cc_group_min_{{ i }} as materialized (
        select e.group_id, min(l.label) as label
        from cc_edges as e
        inner join cc_labels_{{ i - 1 }} as l on l.node_id = e.node_id
        group by e.group_id
    ),
    cc_hooked_{{ i }} as materialized (
        select l.node_id, least(l.label, coalesce(min(g.label), l.label)) as label
        from cc_labels_{{ i - 1 }} as l
        left join cc_edges as e on e.node_id = l.node_id
        left join cc_group_min_{{ i }} as g on g.group_id = e.group_id
        group by l.node_id, l.label
    ),
    cc_labels_{{ i }} as materialized (
        select h.node_id, least(h.label, parent.label) as label
        from cc_hooked_{{ i }} as h
        inner join cc_hooked_{{ i }} as parent on parent.node_id = h.label
    ),
    {% endfor %}
    labels_{{ passes }} as (
        select n.node_id, coalesce(l.label, n.node_id) as label
        from {{ nodes_cte }} as n
        left join cc_labels_{{ passes }} as l on l.node_id = n.node_id
    ),
{% endmacro %}
