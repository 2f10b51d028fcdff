"""gunicorn's access log without API keys (named by ``gunicorn.conf.py``).

A client that sends its key the wrong way is refused (401, 400), yet gunicorn
would still write the key into the access log: the user of ``Authorization:
Basic`` (``curl -u KEY:``, a BI tool's "user name" field) is the log's third
field, and a key pasted into the query string is part of the request line. A
log line keeps neither: the user field is always ``-`` (the API has no Basic
users) and whatever looks like a key, in any field, is cut to its prefix.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

from api.keystore import TOKEN_PREFIX

# a whole key, or any part of one: whatever follows the prefix is secret
_KEY_TEXT = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]+", re.ASCII)
REDACTED = TOKEN_PREFIX + "[redacted]"


def redacted(text: str) -> str:
    return _KEY_TEXT.sub(REDACTED, text) if TOKEN_PREFIX in text else text


class AccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"
        return {name: redacted(value) if isinstance(value, str) else value for name, value in atoms.items()}
