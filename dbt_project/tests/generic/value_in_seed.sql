{# Accepted values kept in one place: the accepted_values seed (no literals scattered in YAML). #}
{% test value_in_seed(model, column_name, field_name) %}
select {{ column_name }} as unexpected_value, count(*) as occurrences
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (
      select accepted.value from {{ ref('accepted_values') }} as accepted
      where accepted.field_name = '{{ field_name }}'
  )
group by {{ column_name }}
{% endtest %}
