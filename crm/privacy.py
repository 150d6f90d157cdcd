"""Personal data out of logs: NIK, phone numbers and dates (a date of birth looks like any other
date, so every date is masked) are replaced before a log line is formatted, in every process.

`install_log_masking()` swaps the logging record factory, so it covers every logger: Rasa's
own (structlog writes through the standard library), Sanic's access log, rasa-sdk and ours,
and the tracebacks of exceptions. Contract numbers stay readable: staff need them to follow a
conversation and they are not identity data on their own.
"""

from __future__ import annotations

import logging
import re

MASK = "•••"

_MONTHS = (r"jan(?:uari|uary)?|feb(?:ruari|ruary)?|mar(?:et|ch)?|apr(?:il)?|mei|may|jun(?:i|e)?|"
           r"jul(?:i|y)?|agu(?:stus)?|aug(?:ust)?|ags|sep(?:tember)?|okt(?:ober)?|oct(?:ober)?|"
           r"nov(?:ember)?|des(?:ember)?|dec(?:ember)?")
_PATTERNS = [
    # NIK: 16 digits, possibly grouped
    re.compile(r"(?<![\w])\d{6}[\s.-]?\d{6}[\s.-]?\d{4}(?![\w])"),
    # Indonesian mobile numbers: +62 8.., 62 8.., 08..
    re.compile(r"(?<![\w+])(?:\+?62[\s.-]?|0)8[\d\s.-]{6,14}\d(?!\d)"),
    # dates: 12-03-1985, 12/3/85, 1985-03-12, 12.03.1985
    re.compile(r"(?<![\d.])(?:\d{1,2}([-/])\d{1,2}\1(?:\d{4}|\d{2})|\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2}-\d{1,2})"
               r"(?![\d.])"),
    # dates with a month name: 12 maret 1985, 12 Mar 85, 12-mar-1985
    re.compile(rf"(?<!\d)\d{{1,2}}[\s-]*(?:{_MONTHS})\.?[\s,-]*(?:\d{{4}}|\d{{2}})(?!\d)", re.IGNORECASE),
    # dates written without separators: 12031985
    re.compile(r"(?<!\d)(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2}(?!\d)"),
]


def mask_text(text: str) -> str:
    """`text` with every NIK, phone number and date replaced by •••."""
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


_original_factory = logging.getLogRecordFactory()
_original_format_exception = logging.Formatter.formatException


def _masked_record(*args, **kwargs) -> logging.LogRecord:
    record = _original_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what logging would have shown
        message = str(record.msg)
    record.msg, record.args = mask_text(message), ()
    return record


def _masked_exception(self: logging.Formatter, exc_info) -> str:
    return mask_text(_original_format_exception(self, exc_info))


def install_log_masking() -> None:
    """Mask personal data in every log record of this process (idempotent)."""
    if logging.getLogRecordFactory() is not _masked_record:
        logging.setLogRecordFactory(_masked_record)
    logging.Formatter.formatException = _masked_exception  # type: ignore[method-assign]
