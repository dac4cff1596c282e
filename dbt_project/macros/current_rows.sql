{#- The int_*_latest models: each recording's current row of a raw inference table, the one the raw.current_*
    view its staging model reads names (one definition of "current", in sql/014; a stage that works on a
    recording reads the same view). `rows` is the staging model of the raw table, `current` the staging model
    of its view, `keys` the columns besides audio_sha256 that name a row of `rows`, `stamp` when the stage
    wrote it.

    Incremental by recording (unique_key audio_sha256, delete+insert): a run writes the current rows the table
    does not hold with the same keys and stamp, which replaces a recording's older row; current_rows_gone, the
    post-hook, deletes the recordings whose row is no longer the current one and that have none now. Every
    other row is left as it was: rewriting them all took 16-17 s after the 1,000,000-call benchmark's new
    day (int_audio_analysis_latest, int_redacted_transcripts_latest; benchmarks/scale.py). -#}
{% macro current_rows(rows, current, keys, stamp) %}

with

rows_written as (

    select * from {{ ref(rows) }}

),

current_keys as (

    select * from {{ ref(current) }}

),

final as (

    select rows_written.*

    from rows_written
    inner join current_keys
        on rows_written.audio_sha256 = current_keys.audio_sha256
        {%- for key in keys %}
        and rows_written.{{ key }} = current_keys.{{ key }}
        {%- endfor %}
    {%- if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as built
        where built.audio_sha256 = rows_written.audio_sha256
            {%- for key in keys %}
            and built.{{ key }} = rows_written.{{ key }}
            {%- endfor %}
            and built.{{ stamp }} = rows_written.{{ stamp }}
    )
    {%- endif %}

)

select * from final

{% endmacro %}


{#- current_rows' post-hook: the recordings whose row is no longer current (a newer row replaced it only when
    the stage wrote one) -#}
{% macro current_rows_gone(current, keys) %}
delete from {{ this }} as built
where not exists (
    select 1
    from {{ ref(current) }} as current_keys
    where current_keys.audio_sha256 = built.audio_sha256
        {%- for key in keys %}
        and current_keys.{{ key }} = built.{{ key }}
        {%- endfor %}
)
{% endmacro %}
