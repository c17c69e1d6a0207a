{# Data check (C6): a later milestone must not precede an earlier one, e.g. won before acquisition. #}
{% test not_before(model, column_name, earlier_column) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and {{ earlier_column }} is not null
  and {{ column_name }} < {{ earlier_column }}
{% endtest %}
