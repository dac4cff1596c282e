{#- incremental_strategy='changed_rows': a model that computes all its rows on every run writes only the rows that
    differ from the table's. dbt builds the model's rows into a temporary table (not written to the WAL); the
    table's rows whose key is gone or whose values changed are deleted, and the rows whose key the table no
    longer holds are inserted. Every other row is left as it was. Rewriting a whole mart of 1,000,000 rows
    after a new day took up to 33 s in benchmarks/scale.py (call_attempts), most of it writing rows that had
    not changed. None of dbt's strategies deletes the rows that are gone (delete+insert and merge only touch
    the keys of the new rows), hence this one. For models whose rows change whenever their inputs do, with a
    single-column unique_key; pair it with on_schema_change='append_new_columns' (a new column differs on
    every row that has a value in it, so those rows are written again). -#}
{% macro get_incremental_changed_rows_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- if key is not string -%}
        {{ exceptions.raise_compiler_error("changed_rows needs a single-column unique_key, got " ~ key) }}
    {%- endif -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | list -%}

    delete from {{ target }} as built
    where not exists (
        select 1 from {{ source }} as computed
        where computed.{{ key }} = built.{{ key }}
            and (
                {%- for column in columns %}computed.{{ column }}{{ ", " if not loop.last }}{% endfor -%}
            ) is not distinct from (
                {%- for column in columns %}built.{{ column }}{{ ", " if not loop.last }}{% endfor -%}
            )
    );

    insert into {{ target }} ({{ columns | join(', ') }})
    select {{ columns | join(', ') }}
    from {{ source }} as computed
    where not exists (
        select 1 from {{ target }} as built
        where built.{{ key }} = computed.{{ key }}
    );
{% endmacro %}
