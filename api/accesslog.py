"""gunicorn's logs without API keys or session cookies (named by ``gunicorn.conf.py``).

A client that sends its key the wrong way is refused (401, 400), yet gunicorn
would still write the key into its logs: the user of ``Authorization: Basic``
(``curl -u KEY:``, a BI tool's "user name" field) is the access log's third
field, a key pasted into the query string is part of the request line, and
gunicorn's own warnings about a request it could not parse (a raw byte in the
query, a header line without a colon) quote that line as it came. So:

* the access log's user field is always ``-`` (the API has no Basic users), and
  the credential headers a custom ``access_log_format`` could name, as request
  headers (``Authorization``, ``Proxy-Authorization``, ``Cookie``), response
  headers (``Set-Cookie``) or WSGI variables (``HTTP_AUTHORIZATION`` ...), are
  ``-`` too;
* whatever looks like a key, in any access-log field and in every line of the
  error log (its tracebacks included), is cut to its prefix: plain, with any of
  its characters percent-encoded (once or more), or with its prefix in capitals;
* in the error log, a header line gunicorn quotes is cut after ``Authorization``
  or ``Proxy-Authorization``, and a base64 run that decodes to a key (a Basic
  credential anywhere) is cut whole.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from api.keystore import TOKEN_PREFIX

REDACTED = TOKEN_PREFIX + "[redacted]"


def _spelled(char: str) -> str:
    """``char`` as a pattern: itself, or percent-encoded once or more (``%5F``, ``%255F``)."""
    codes = "|".join(sorted({f"{ord(char.lower()):02x}", f"{ord(char.upper()):02x}"}))
    return f"(?:{re.escape(char)}|%(?:25)*(?:{codes}))"


# a whole key, or any part of one: whatever follows the prefix is secret (case-insensitive,
# so the hex digits of an escape and a prefix in capitals match too)
_KEY_TEXT = re.compile(
    "".join(_spelled(char) for char in TOKEN_PREFIX) + r"(?:[a-z0-9_-]|%(?:25)*[0-9a-f]{2})+",
    re.ASCII | re.IGNORECASE,
)
# what a refused header line quotes after these names is a credential, whatever its form
_CREDENTIAL_HEADER = re.compile(r"((?:proxy-)?authorization)\b[^'\"\r\n]*", re.IGNORECASE)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_KEY_BYTES = TOKEN_PREFIX.encode()

# access-log atoms of headers that carry credentials (a key, the page's session cookie)
SECRET_ATOMS = frozenset(
    {
        "{authorization}i",
        "{proxy-authorization}i",
        "{cookie}i",
        "{set-cookie}o",
        "{http_authorization}e",
        "{http_proxy_authorization}e",
        "{http_cookie}e",
    }
)


def redacted(text: str) -> str:
    """``text`` with every key, plain or percent-encoded, cut to ``urk_[redacted]``."""
    if "%" not in text and TOKEN_PREFIX[:-1] not in text.lower():
        return text
    return _KEY_TEXT.sub(REDACTED, text)


def _decodes_to_a_key(run: str) -> bool:
    padded = run.rstrip("=") + "=" * (-len(run.rstrip("=")) % 4)
    try:
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return False
    return _KEY_BYTES in decoded.lower()


def redacted_line(text: str) -> str:
    """An error-log line: ``redacted``, then credential headers and base64 keys cut."""
    text = _CREDENTIAL_HEADER.sub(r"\1 [redacted]", redacted(text))
    return _BASE64_RUN.sub(lambda run: "[redacted]" if _decodes_to_a_key(run.group()) else run.group(), text)


class _RedactingFilter(logging.Filter):
    """On gunicorn's error log: each record's text, and its traceback, without keys."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted: logging's own handling reports it
            return True
        cleaned = redacted_line(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redacted_line(logging.Formatter().formatException(record.exc_info))
        return True


class AccessLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(existing, _RedactingFilter) for existing in self.error_log.filters):
            self.error_log.addFilter(_RedactingFilter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"
        atoms.update((name, "-") for name in SECRET_ATOMS if name in atoms)
        return {name: redacted(value) if isinstance(value, str) else value for name, value in atoms.items()}
