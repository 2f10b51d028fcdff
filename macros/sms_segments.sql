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

{#- GSM 03.38 (3GPP TS 23.038) as regular-expression bracket contents: the
    default alphabet (LF and CR as \n and \r; ESC, 0x1B, is no character of
    its own) and the extension table (form feed as \f). A regular expression
    is used rather than translate(): PostgreSQL compiles it once per query,
    while translate() searches its list for every character of every body. -#}
{% macro gsm7_default_class() -%}
    @£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&''()*+,./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà-
{%- endmacro %}

{% macro gsm7_extension_class() -%}
    \f^{}\\\[~\]|€
{%- endmacro %}

{% macro sms_is_gsm7(body) -%}
    {{ return(adapter.dispatch('sms_is_gsm7', 'usage_reports')(body)) }}
{%- endmacro %}

{% macro postgres__sms_is_gsm7(body) -%}
    ({{ body }} ~ '^[{{ gsm7_extension_class() }}{{ gsm7_default_class() }}]*$')
{%- endmacro %}

{#- `is_gsm7` (optional): a column already holding sms_is_gsm7(body), so a
    model that also reports the encoding runs the test once per row. -#}
{% macro sms_segments(body, carrier_segments, is_gsm7=none) -%}
    {{ return(adapter.dispatch('sms_segments', 'usage_reports')(body, carrier_segments, is_gsm7)) }}
{%- endmacro %}

{% macro postgres__sms_segments(body, carrier_segments, is_gsm7=none) -%}
    {%- set extension_count -%}
        (char_length({{ body }}) - char_length(regexp_replace({{ body }}, '[{{ gsm7_extension_class() }}]', '', 'g')))
    {%- endset -%}
    {%- set astral_count -%}
        (char_length({{ body }}) - char_length(regexp_replace({{ body }}, '[\U00010000-\U0010FFFF]', '', 'g')))
    {%- endset -%}
    {#- The body in units (septets / UTF-16 code units): a marker follows each
        two-unit character, so the marker sits exactly on every unit offset
        where a cut would split a pair. chr(1) is not a GSM character, so a
        GSM-7 body holds none; U+FFFF is a Unicode noncharacter, and one the
        body holds itself is first replaced by another one-unit character
        (U+FFFD), so every marker is one the count put there. -#}
    {%- set gsm7_units -%}
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace({{ body }},
            '^', '^' || chr(1)), '{', '{' || chr(1)), '}', '}' || chr(1)), '\', '\' || chr(1)),
            '[', '[' || chr(1)), '~', '~' || chr(1)), ']', ']' || chr(1)), '|', '|' || chr(1)),
            '€', '€' || chr(1)), chr(12), chr(12) || chr(1))
    {%- endset -%}
    {%- set ucs2_units -%}
        regexp_replace(replace({{ body }}, chr(65535), chr(65533)), '([\U00010000-\U0010FFFF])', '\1' || chr(65535), 'g')
    {%- endset -%}
    {#- Cheap tests first, so most bodies never build a string: a body of at
        most half a segment's units fits whatever its pairs (each character
        costs at most two units), and a body without two-unit characters is
        plain arithmetic (a regex test builds nothing, unlike the counts). -#}
    case
        when {{ carrier_segments }} > 0 then {{ carrier_segments }}
        when char_length({{ body }}) = 0 then 1
        when {{ is_gsm7 or sms_is_gsm7(body) }} then
            case
                when char_length({{ body }}) <= 80 then 1
                when {{ body }} !~ '[{{ gsm7_extension_class() }}]' then
                    case when char_length({{ body }}) <= 160 then 1 else (char_length({{ body }}) + 152) / 153 end
                when char_length({{ body }}) + {{ extension_count }} <= 160 then 1
                else {{ postgres__sms_cut_segments(gsm7_units, 'chr(1)', 153) }}
            end
        else
            case
                when char_length({{ body }}) <= 35 then 1
                when {{ body }} !~ '[\U00010000-\U0010FFFF]' then
                    case when char_length({{ body }}) <= 70 then 1 else (char_length({{ body }}) + 66) / 67 end
                when char_length({{ body }}) + {{ astral_count }} <= 70 then 1
                else {{ postgres__sms_cut_segments(ucs2_units, 'chr(65535)', 67) }}
            end
    end
{%- endmacro %}

{#- Cut a long body into segments of `size` units, one segment at a time:
    a cut that would fall between the two units of a pair (the unit after the
    cut is the marker) moves back by one. Only bodies longer than one segment
    that contain two-unit characters take this path; it loops once per
    segment, not once per character. `materialized` builds the marked body
    once: inlined, its regexp_replace would run again for every segment, and
    a long body (60,000 emoji) would take a build 50 s instead of about 1 s. -#}
{% macro postgres__sms_cut_segments(units_expression, marker, size) -%}
    (
        with recursive measured as materialized (
            select {{ units_expression }} as units
        ),

        cut (consumed, segments) as (
            select 0, 1
            union all
            select
                cut.consumed
                + case
                    when substr(measured.units, cut.consumed + {{ size + 1 }}, 1) = {{ marker }} then {{ size - 1 }}
                    else {{ size }}
                end,
                cut.segments + 1
            from cut
            cross join measured
            where char_length(measured.units) - cut.consumed > {{ size }}
        )

        select max(cut.segments) from cut
    )
{%- endmacro %}

{#- The encoding a carrier sends a body in: 'GSM-7' or 'UCS-2'. -#}
{% macro sms_encoding(body, is_gsm7=none) -%}
    case when {{ is_gsm7 or sms_is_gsm7(body) }} then 'GSM-7' else 'UCS-2' end
{%- endmacro %}
