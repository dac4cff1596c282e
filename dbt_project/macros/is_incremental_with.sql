{#- Whether this run is incremental on a table that already has `column`: the incremental models that added
    a column their partial runs depend on build a table from before it again whole. -#}
{% macro is_incremental_with(column) %}
    {{ return(execute and is_incremental()
        and column in (adapter.get_columns_in_relation(this) | map(attribute='name') | list)) }}
{% endmacro %}
