"""Personal data masked the same way everywhere: logs, the console's transcripts for agents and
the NLU inbox all call `mask_text`. NIK, phone numbers, contract numbers and dates (a date of
birth looks like any other date, so every date is masked) keep their shape with every digit
replaced by "x" ("Kxxxxxxxxxxx", "xx-xx-xxxx"), so a masked message still reads like what the
customer wrote.

`install_log_masking()` swaps the logging record factory, so it covers every logger: Rasa's
own (structlog writes through the standard library), Sanic's access log, rasa-sdk and ours,
and the tracebacks of exceptions.
"""

from __future__ import annotations

import logging
import re

_MONTHS = (
    r"jan(?:uari|uary)?|feb(?:ruari|ruary)?|mar(?:et|ch)?|apr(?:il)?|mei|may|jun(?:i|e)?|"
    r"jul(?:i|y)?|agu(?:stus)?|aug(?:ust)?|ags|agt|sep(?:t|tember)?|okt(?:ober)?|oct(?:ober)?|"
    r"nov(?:ember)?|nop(?:ember)?|des(?:ember)?|dec(?:ember)?"
)
_DAY_WORDS = (
    r"(?:(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|"
    r"se|dua\s+puluh|tiga\s+puluh)\s*(?:belas|puluh)?\s*(?:satu|dua|tiga|empat|lima|enam|tujuh|"
    r"delapan|sembilan)?)"
)
_SEP = r"[\s.-]?"
# One home for the shapes of identity data, used by log masking, the console and the NLU inbox.
CONTRACT = re.compile(r"\b[Kk][\s.-]*(?:\d[\s.-]*){10}\d\b")  # K + 11 digits, as crm.parsing reads them
NIK = re.compile(r"(?<![\w])\d(?:[\s.-]?\d){15}(?![\w])")  # 16 digits, grouped any way
PHONE = re.compile(  # Indonesian mobile numbers: +62 8.., 62 8.., (0812) .., with any separators
    r"(?<![\w+])(?:\+\s?62|62|\(\+?62\)|0|\(0)[\s.-]*\(?8\d{1,3}\)?(?:[\s.-]*\d){6,11}(?!\d)"
)
DATES = [
    # 12-03-1985, 12/3/85, 12.03.1985, 12 - 03 - 1985, 12 03 1985, 1985-03-12, 1985/03/12
    re.compile(
        r"(?<![\d.])(?:\d{1,2}\s*([-/])\s*\d{1,2}\s*\1\s*(?:\d{4}|\d{2})|\d{1,2}\s*\.\s*\d{1,2}\s*\.\s*\d{4}"
        r"|\d{1,2}\s\d{1,2}\s(?:19|20)\d{2}"
        r"|(?:19|20)\d{2}\s*([-/.])\s*\d{1,2}\s*\2\s*\d{1,2})(?![\d.])"
    ),
    # with a month name: 12 maret 1985, 12 Mar 85, 12-mar-1985, tujuh belas agustus 1985, Mar 12, 1985
    re.compile(
        rf"(?:(?<!\d)\d{{1,2}}|\b{_DAY_WORDS})?[\s,-]*\b(?:{_MONTHS})\b\.?[\s,-]*(?:\d{{1,2}}[\s,]+)?"
        rf"(?:(?:19|20)\d{{2}}|'?\d{{2}})(?!\d)",
        re.IGNORECASE,
    ),
    # written without separators: 12031985
    re.compile(r"(?<!\d)(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2}(?!\d)"),
]
# a one-time verification code (6 digits standing alone): never in a log or a transcript
CODE = re.compile(r"(?<![\w.,/+-])\d{3}[\s-]?\d{3}(?![\w.,/-])")
_PATTERNS = [CONTRACT, NIK, PHONE, *DATES, CODE]


def _hide(match: re.Match[str]) -> str:
    return re.sub(r"\d", "x", match.group(0))


def mask_text(text: str) -> str:
    """`text` with the digits of every NIK, phone number, contract number, date and standalone
    6-digit code made "x"."""
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_hide, text)
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
    logging.Formatter.formatException = _masked_exception  # type: ignore[assignment]
