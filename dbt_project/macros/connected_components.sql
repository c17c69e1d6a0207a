{#
  Connected components, set-based (C3). Emits CTEs (no leading WITH, trailing comma):
    labels_<passes>(node_id, label)  -- label = smallest node_id of the node's component
  nodes_cte:  (node_id integer)       every node
  edges_cte:  (node_id, group_key)    nodes sharing a group_key are connected
  Each pass hooks every node to the smallest label among the groups it belongs to, then jumps
  pointers (a node adopts its label's label), so distances shrink geometrically; the singular test
  assert_identity_converged fails if `passes` ever was too few.
  MATERIALIZED keeps each pass computed once (DuckDB and PostgreSQL 12+).
#}
{% macro connected_components(nodes_cte, edges_cte, passes) %}
    labels_0 as materialized (
        select node_id, node_id as label from {{ nodes_cte }}
    ),
    {% for i in range(1, passes + 1) %}
    group_min_{{ i }} as materialized (
        select e.group_key, min(l.label) as label
        from {{ edges_cte }} as e
        inner join labels_{{ i - 1 }} as l on l.node_id = e.node_id
        group by e.group_key
    ),
    hooked_{{ i }} as materialized (
        select l.node_id, least(l.label, coalesce(min(g.label), l.label)) as label
        from labels_{{ i - 1 }} as l
        left join {{ edges_cte }} as e on e.node_id = l.node_id
        left join group_min_{{ i }} as g on g.group_key = e.group_key
        group by l.node_id, l.label
    ),
    labels_{{ i }} as materialized (
        select h.node_id, least(h.label, parent.label) as label
        from hooked_{{ i }} as h
        inner join hooked_{{ i }} as parent on parent.node_id = h.label
    ),
    {% endfor %}
{% endmacro %}
