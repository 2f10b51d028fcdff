"""gunicorn's logs without API keys or session cookies (named by ``gunicorn.conf.py``).

A client that sends its key the wrong way is refused (401, 400), yet gunicorn
would still write the key into its logs: the user of ``Authorization: Basic``
(``curl -u KEY:``, a BI tool's "user name" field) is the access log's third
field, a key pasted into the query string is part of the request line, and
gunicorn's own warnings about a request it could not parse (a raw byte in the
query, a header line without a colon) quote that line as it came. So:

* the access log's user field is always ``-`` (the API has no Basic users), and
  the credential headers a custom ``access_log_format`` could name
  (``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``Set-Cookie``) are
  ``-`` too;
* whatever looks like a key, in any access-log field and in every line of the
  error log (its tracebacks included), plain or percent-encoded, is cut to its
  prefix.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from api.keystore import TOKEN_PREFIX

# a whole key, or any part of one: whatever follows the prefix is secret, whether the
# characters (or the prefix's underscore) come as they are or percent-encoded
_PREFIX = TOKEN_PREFIX.rstrip("_")
_KEY_TEXT = re.compile(re.escape(_PREFIX) + r"(?:_|%5[Ff])(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2})+", re.ASCII)
REDACTED = TOKEN_PREFIX + "[redacted]"

# access-log atoms of headers that carry credentials (a key, the page's session cookie)
SECRET_HEADERS = ("{authorization}i", "{proxy-authorization}i", "{cookie}i", "{set-cookie}o")


def redacted(text: str) -> str:
    return _KEY_TEXT.sub(REDACTED, text) if _PREFIX in text else text


class _RedactingFilter(logging.Filter):
    """On gunicorn's error log: each record's text, and its traceback, without keys."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _PREFIX in message:
            record.msg, record.args = redacted(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redacted(logging.Formatter().formatException(record.exc_info))
        return True


class AccessLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(existing, _RedactingFilter) for existing in self.error_log.filters):
            self.error_log.addFilter(_RedactingFilter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"
        atoms.update((name, "-") for name in SECRET_HEADERS if name in atoms)
        return {name: redacted(value) if isinstance(value, str) else value for name, value in atoms.items()}
