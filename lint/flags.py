"""Stand-in for dbt's ``flags`` when sqlfluff renders models (see .sqlfluff): an
incremental build, the branch every scheduled build takes."""

FULL_REFRESH = False
