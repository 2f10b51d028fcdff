"""Stand-ins for dbt's cross-database macros when sqlfluff renders models
with its jinja templater (see .sqlfluff): same SQL shape as on PostgreSQL."""


def type_string() -> str:
    return "text"


def current_timestamp() -> str:
    return "now()"
