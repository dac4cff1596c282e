{#- The column's sum over the model equals the number of rows of another relation (`to`, a ref or a source),
    optionally of those matching `to_where`: each of those rows is counted exactly once in the model. Returns
    one row with both figures when they differ. -#}
{% test sum_equals_row_count(model, column_name, to, to_where="true") %}

with

total as (

    select coalesce(sum({{ column_name }}), 0) as column_sum
    from {{ model }}

),

expected as (

    select count(*) as row_count
    from {{ to }}
    where {{ to_where }}

)

select total.column_sum, expected.row_count
from total
cross join expected
where total.column_sum <> expected.row_count

{% endtest %}
