{#- Every value of the column matches the POSIX regular expression (PostgreSQL's ~, a search: anchor it with
    ^ and $ for the whole value); a null passes. Returns the values that do not match. -#}
{% test matches_pattern(model, column_name, pattern) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} !~ {{ dbt.string_literal(pattern) }}

{% endtest %}
