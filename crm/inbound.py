"""The front door every customer message passes before Rasa sees it, on every public channel
(website, WhatsApp, REST).

- `clean()` removes invisible characters (zero-width, bidirectional controls, other control
  characters), applies Unicode NFKC (full-width digits become digits) and trims.
- `screen()` refuses empty and over-long messages with a polite answer, and turns a typed
  `/intent{...}` into plain text unless it is one of the payloads our own buttons send. Rasa
  would otherwise take `/restart` (which ends a CRM takeover) or `/inform{"contract_number":..}`
  from anyone who types it.
- `RateLimiter` answers a sender who sends more than N messages in a window, once, politely,
  and drops the rest of the burst.
- `guard()` wraps a channel's `on_new_message` with all of this, and answers with an apology
  when Rasa fails to handle a message (e.g. its tracker store is unreachable): the customer
  never gets silence, and the failure is logged loudly.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Deque, Optional

from crm import responses
from crm.formatting import mask_phone

logger = logging.getLogger(__name__)

# zero-width and joiner characters, bidirectional embeddings/overrides/isolates, BOM, soft hyphen
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

# What our own buttons send (domain.yml and actions/); anything else starting with "/" is text.
_ALLOWED_PAYLOADS = [
    re.compile(r"/(affirm|deny|ask_instalment|ask_bpkb_pickup|ask_office_hours|greet|goodbye)"),
    re.compile(r'/inform\{"date":\s*"\d{4}-\d{2}-\d{2}"\}'),
    re.compile(r'/inform\{"contract_number":\s*"[A-Za-z0-9-]{1,32}"\}'),
]


def clean(text: Any) -> str:
    """Customer text without invisible or control characters, NFKC-normalised, trimmed."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()


def is_allowed_payload(text: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in _ALLOWED_PAYLOADS)


@dataclass(frozen=True)
class Screened:
    text: Optional[str] = None  # what Rasa gets
    reply: Optional[str] = None  # or what the customer gets instead (Rasa never sees the message)
    reason: Optional[str] = None


def screen(text: Any, max_chars: int) -> Screened:
    cleaned = clean(text)
    if cleaned.startswith("/") and not is_allowed_payload(cleaned):
        cleaned = cleaned.lstrip("/ ").strip()
    if not cleaned:
        return Screened(reply=responses.render("utter_message_empty"), reason="empty")
    if len(cleaned) > max_chars:
        return Screened(reply=responses.render("utter_message_too_long", max_chars=max_chars), reason="too long")
    return Screened(text=cleaned)


class RateLimiter:
    """At most `limit` messages per sender in any `window` seconds (a sliding log per sender).
    In memory, per process: each Rasa replica limits what it receives. Thread-safe."""

    def __init__(self, limit: int, window: float, max_senders: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.max_senders, self.clock = limit, window, max_senders, clock
        self._seen: OrderedDict[str, Deque[float]] = OrderedDict()
        self._warned: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, sender: str) -> Optional[bool]:
        """True: go ahead. False: over the limit, tell the sender (first time in this window).
        None: over the limit and already told; drop quietly."""
        if self.limit <= 0:
            return True
        now = self.clock()
        with self._lock:
            times = self._seen.pop(sender, None) or deque()
            while times and now - times[0] >= self.window:
                times.popleft()
            self._seen[sender] = times  # most recently active last
            while len(self._seen) > self.max_senders:
                self._seen.popitem(last=False)
            if len(times) < self.limit:
                times.append(now)
                return True
            warned = self._warned.get(sender)
            if warned is not None and now - warned < self.window:
                return None
            self._warned[sender] = now
            while len(self._warned) > self.max_senders:
                self._warned.popitem(last=False)
            return False


OnNewMessage = Callable[[Any], Awaitable[Any]]


def guard(on_new_message: OnNewMessage, limiter: RateLimiter, max_chars: int) -> OnNewMessage:
    """`on_new_message` behind the screen, the rate limit and an apology on failure."""

    async def guarded(message: Any) -> None:
        sender = str(message.sender_id)
        key = f"{message.input_channel or 'unknown'}:{sender}"
        channel = message.output_channel
        screened = screen(message.text, max_chars)
        if screened.reply:
            logger.info("message from %s refused (%s)", mask_phone(sender), screened.reason)
            await channel.send_text_message(sender, screened.reply)
            return
        verdict = limiter.check(key)
        if verdict is not True:
            logger.warning("rate limit: %s sent more than %d messages in %d s", mask_phone(sender),
                           limiter.limit, limiter.window)
            if verdict is False:
                await channel.send_text_message(sender, responses.render("utter_rate_limited"))
            return
        message.text = screened.text
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("Rasa could not handle a message from %s; the customer got an apology",
                             mask_phone(sender))
            try:
                await channel.send_text_message(sender, responses.render("utter_system_unavailable"))
            except Exception:
                logger.exception("the apology to %s could not be sent either", mask_phone(sender))
            raise

    return guarded
