{#- A boolean SQL expression over each row's columns holds for every row; a row where it is null (a value it
    needs is missing) passes. Returns the rows where it is false. -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
