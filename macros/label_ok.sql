{#- Whether a text that becomes part of a mart's key (an AI event's provider,
    model and model type, a voice event's provider and model, an SMS's or a
    call's workspace number) is one the marts can take: present and at most
    var('max_label_characters') characters. The marts' keys are b-tree
    indexes, whose entries PostgreSQL caps at about 2.7 kB: one longer value
    would stop every build until a corrected copy lands. -#}
{% macro label_ok(column) -%}
    coalesce(char_length({{ column }}) <= {{ var('max_label_characters') }}, false)
{%- endmacro %}
