{#-
    How many segments a carrier bills for an SMS (CONTRACT §4).

    carrier_segments wins when the carrier reported a positive count. Otherwise
    the body is GSM-7 when every character is in the GSM 03.38 default alphabet
    or its extension table (extension characters cost two septets), else UCS-2
    counted in UTF-16 code units (a character outside the BMP costs two).
    One segment holds 160 septets / 70 units; a longer body is cut into
    segments of at most 153 septets / 67 units, and a cut never falls inside
    an extension pair or a surrogate pair. The empty body is one segment.
-#}

{#- GSM 03.38 default alphabet (3GPP TS 23.038), without LF and CR which are
    added with chr() so the literal stays printable. ESC (0x1B) is not a
    character of its own. -#}
{% macro gsm7_basic_characters() -%}
    '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&''()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà' || chr(10) || chr(13)
{%- endmacro %}

{#- The extension table: each costs an escape septet plus its own (form feed is chr(12)). -#}
{% macro gsm7_extension_characters() -%}
    '^{}\[~]|€' || chr(12)
{%- endmacro %}

{% macro sms_is_gsm7(body) -%}
    {{ return(adapter.dispatch('sms_is_gsm7', 'usage_reports')(body)) }}
{%- endmacro %}

{% macro postgres__sms_is_gsm7(body) -%}
    (char_length(translate({{ body }}, {{ gsm7_basic_characters() }} || {{ gsm7_extension_characters() }}, '')) = 0)
{%- endmacro %}

{% macro sms_segments(body, carrier_segments) -%}
    {{ return(adapter.dispatch('sms_segments', 'usage_reports')(body, carrier_segments)) }}
{%- endmacro %}

{% macro postgres__sms_segments(body, carrier_segments) -%}
    {%- set extension_count -%}
        (char_length({{ body }}) - char_length(translate({{ body }}, {{ gsm7_extension_characters() }}, '')))
    {%- endset -%}
    {%- set astral_count -%}
        (char_length({{ body }}) - char_length(regexp_replace({{ body }}, '[\U00010000-\U0010FFFF]', '', 'g')))
    {%- endset -%}
    {%- set gsm7_cost -%}
        case when strpos({{ gsm7_extension_characters() }}, substr({{ body }}, walk.position + 1, 1)) > 0 then 2 else 1 end
    {%- endset -%}
    {%- set ucs2_cost -%}
        case when ascii(substr({{ body }}, walk.position + 1, 1)) > 65535 then 2 else 1 end
    {%- endset -%}
    case
        when {{ carrier_segments }} > 0 then {{ carrier_segments }}
        when char_length({{ body }}) = 0 then 1
        when {{ sms_is_gsm7(body) }} then
            case
                when char_length({{ body }}) + {{ extension_count }} <= 160 then 1
                when {{ extension_count }} = 0 then (char_length({{ body }}) + 152) / 153
                else {{ postgres__sms_greedy_segments(body, gsm7_cost, 153) }}
            end
        else
            case
                when char_length({{ body }}) + {{ astral_count }} <= 70 then 1
                when {{ astral_count }} = 0 then (char_length({{ body }}) + 66) / 67
                else {{ postgres__sms_greedy_segments(body, ucs2_cost, 67) }}
            end
    end
{%- endmacro %}

{#- Fill segments one character at a time, opening a new segment when the
    next character (one or two units) would not fit: the way a carrier cuts a
    concatenated message without splitting a pair. Only bodies that need it
    (long, with two-unit characters) take this path. -#}
{% macro postgres__sms_greedy_segments(body, cost_expression, capacity) -%}
    (
        with recursive walk (position, segments, used) as (
            select 0, 1, 0
            union all
            select
                walk.position + 1,
                case when walk.used + step.cost > {{ capacity }} then walk.segments + 1 else walk.segments end,
                case when walk.used + step.cost > {{ capacity }} then step.cost else walk.used + step.cost end
            from walk
            cross join lateral (select {{ cost_expression }} as cost) as step
            where walk.position < char_length({{ body }})
        )
        select max(walk.segments) from walk
    )
{%- endmacro %}

{#- UTF-16 code units of a body (what UCS-2 segments are counted in). -#}
{% macro sms_encoding(body) -%}
    case when {{ sms_is_gsm7(body) }} then 'GSM-7' else 'UCS-2' end
{%- endmacro %}
