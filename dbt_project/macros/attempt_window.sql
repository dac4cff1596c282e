{# A call started at `started_at` (timestamptz) is an attempt of the order `orders` when it falls from the
   order's ordered_on 00:00 to the end of its suspended_on, in the deployment's time zone (DESIGN.md). #}
{% macro in_attempt_window(started_at, orders) -%}
    ({{ started_at }} at time zone '{{ var("timezone") }}') >= {{ orders }}.ordered_on::timestamp
    and ({{ started_at }} at time zone '{{ var("timezone") }}') < ({{ orders }}.suspended_on + 1)::timestamp
{%- endmacro %}
