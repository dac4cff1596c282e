{#- int_attempt_duplicates' cell of tone kinds × speech onset × duration × seconds of speech as one hashed key:
    a call's own cell and the cells it looks in are hashed here alike, or the join finds nothing. -#}
{% macro duplicate_cell_key(tone_kinds, onset_cell, duration_cell, speech_cell) -%}
    hashtextextended(
        concat_ws('|', {{ tone_kinds }}::text, {{ onset_cell }}, {{ duration_cell }}, {{ speech_cell }}), 0
    )
{%- endmacro %}
