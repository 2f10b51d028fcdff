{#- The first column of the first row `sql` returns, run now (when the model
    is compiled, so the model's statement can carry it as a literal); none
    when it returns no row or a null, or while dbt only parses. -#}
{% macro query_value(sql) -%}
    {%- if execute -%}
        {%- set found = run_query(sql) -%}
        {%- if found.rows | length > 0 and found.columns[0].values()[0] is not none -%}
            {{ return(found.columns[0].values()[0]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
