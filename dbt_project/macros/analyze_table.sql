{#- Statistics for a table this build just wrote, before the next model joins it: PostgreSQL gathers them
    for a new or rewritten table only when autovacuum comes round (up to a minute later, often after the
    build), and without them it plans a join of 100,000-row tables as if they held a few hundred rows.
    Views have none to gather. -#}
{% macro analyze_table() %}
    {%- if config.get('materialized') in ['table', 'incremental'] -%}
        analyze {{ this }}
    {%- endif -%}
{% endmacro %}
