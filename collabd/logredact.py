"""Keep tokens out of the logs: uvicorn logs every request's path with its query string.

Links carry their token in the `#fragment`, which never reaches the server, but a websocket
(`/ws/{id}?token=...`) and scripts' API calls put it in the query; uvicorn's access log and its
"WebSocket ... [accepted]" line would write it to every log file and log shipper.
"""

from __future__ import annotations

import logging
import re

_TOKEN_QUERY = re.compile(r"([?&](?:token|access_token|code|state)=)[^&\s\"'#]*", re.IGNORECASE)
REDACTED = "[redacted]"
# uvicorn's access log, and its error logger, which carries the websocket handshake lines
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _TOKEN_QUERY.sub(rf"\g<1>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Rewrites `token=` (and OAuth `code=`, `state=`) query values in a record's message and
    arguments.

    The arguments are rewritten one by one rather than folded into the message: uvicorn's
    access formatter unpacks them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Add the filter to uvicorn's loggers (after uvicorn configured its logging)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
