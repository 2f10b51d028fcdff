{#-
    For the reconciliation tests (tests/assert_*_reconcile*.sql): the rows of
    the CTEs `mart` and `staged`, which hold the same key and measure columns
    at the mart's grain, that disagree: a key on one side only, or any measure
    that differs (absent counts as 0). A row at the full grain, not a total
    per workspace, so an event counted on the wrong day or under the wrong
    key fails the test even when the totals still agree.
-#}
{% macro mismatched_rows(keys, measures) -%}
select
    {%- for key in keys %}
    coalesce(mart.{{ key }}, staged.{{ key }}) as {{ key }},
    {%- endfor %}
    {%- for measure in measures %}
    mart.{{ measure }} as mart_{{ measure }},
    staged.{{ measure }} as staged_{{ measure }}{{ "," if not loop.last }}
    {%- endfor %}
from mart
full outer join staged
    on
    {%- for key in keys %}
        {{ "and " if not loop.first }}mart.{{ key }} = staged.{{ key }}
    {%- endfor %}
where
    {%- for measure in measures %}
    {{ "or " if not loop.first }}coalesce(mart.{{ measure }}, 0) != coalesce(staged.{{ measure }}, 0)
    {%- endfor %}
{%- endmacro %}

{#-
    The strict twin of mismatched_rows, for tests that read back what a model
    wrote (tests/assert_*_daily_lists_reconcile.sql): the keys of the rows of
    the CTEs `listed` and `expected` joined on `keys` that disagree, a row on
    one side only or any of `columns` (of any type, nulls compared as values)
    distinct. The first key must be set on every row of both.
-#}
{% macro differing_rows(listed, expected, keys, columns) -%}
select
    {%- for key in keys %}
    coalesce(listed.{{ key }}, expected.{{ key }}) as {{ key }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ listed }} as listed
full outer join {{ expected }} as expected
    on
    {%- for key in keys %}
        {{ "and " if not loop.first }}listed.{{ key }} = expected.{{ key }}
    {%- endfor %}
where
    listed.{{ keys[0] }} is null
    or expected.{{ keys[0] }} is null
    {%- for column in columns %}
    or listed.{{ column }} is distinct from expected.{{ column }}
    {%- endfor %}
{%- endmacro %}
