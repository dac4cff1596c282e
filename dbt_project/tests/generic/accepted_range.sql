{#- The column's values lie between min_value and max_value, both included (either may be left out); a null
    passes, as not_null says whether it may be null. Returns the values outside.
    The project's four generic tests (this one, matches_pattern, expression_is_true, sum_equals_row_count)
    are written here rather than taken from dbt_utils: dbt packages install from the dbt hub or git, which
    the project's machines cannot reach, and PyPI does not carry dbt-labs' dbt_utils. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

select {{ column_name }}
from {{ model }}
where
    {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}

{% endtest %}
