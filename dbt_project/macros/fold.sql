{# Case-, accent- and space-insensitive form of a label ("Client  Injoignable" → "client injoignable"). #}
{% macro fold(expression) -%}
    regexp_replace(
        translate(lower(trim({{ expression }})), 'àâäáãéèêëíìîïóòôöõúùûüçñ', 'aaaaaeeeeiiiiooooouuuucn'),
        '\s+', ' ', 'g'
    )
{%- endmacro %}
