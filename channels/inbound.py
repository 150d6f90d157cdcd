"""The front door every customer message passes before Rasa sees it, on every public channel
(website, WhatsApp, REST).

- `clean()` removes invisible characters (zero-width, bidirectional controls, other control
  characters, lone surrogates), applies Unicode NFKC (full-width digits become digits) and trims.
- `screen()` refuses empty and over-long messages with a polite answer, and turns a typed
  `/intent{...}` into plain text unless it is one of the payloads our own buttons send. Rasa
  would otherwise take `/restart` (which ends a CRM takeover) or `/inform{"contract_number":..}`
  from anyone who types it.
- `RateLimiter` paces each conversation: N messages in a window go straight through; a burst
  beyond that is held, the sender is told once to slow down, and the held messages reach Rasa
  merged into one message when the window allows. Nothing a customer writes is dropped; only
  a flood far beyond any customer's typing (MAX_HELD) is.
- `guard()` wraps a channel's `on_new_message` with all of this, refuses conversation ids that
  are not in a channel's issued format (`crm.conversations`), and answers with an apology
  when Rasa fails to handle a message: the customer never gets silence, the failure is logged
  loudly, and it fails that message only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional

from crm import conversations, responses
from crm.formatting import mask_phone

logger = logging.getLogger(__name__)

# zero-width and joiner characters, bidirectional embeddings/overrides/isolates, BOM, soft hyphen
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

# What our own buttons send (domain.yml and actions/); anything else starting with "/" is text.
_ALLOWED_PAYLOADS = [
    re.compile(r"/(affirm|deny|ask_instalment|ask_bpkb_pickup|ask_office_hours|greet|goodbye)"),
    # the topic buttons of an unsure message (utter_topics, actions/fallback.py)
    re.compile(
        r"/(ask_stnk_renewal|request_due_date_change|ask_autodebit|ask_payment_methods|ask_late_fee|ask_payoff"
        r"|request_statement|report_payment_not_posted)"
    ),
    # the confirming questions before a costly intent (actions/fallback.py)
    re.compile(
        r"/(complain|request_human|report_vehicle_theft|report_insurance_claim|report_debtor_deceased"
        r"|request_credit_takeover)"
    ),
    # WhatsApp's consent buttons (utter_opt_out_how, the STOP reply): recorded by the channel
    # (crm/services/consent.py), never sent to Rasa
    re.compile(r"/(opt_out_marketing|opt_out_reminders|opt_in)"),
    re.compile(r'/inform\{"date":\s*"\d{4}-\d{2}-\d{2}"\}'),
    re.compile(r'/inform\{"contract_number":\s*"[A-Za-z0-9-]{1,32}"\}'),
    re.compile(r'/inform\{"payment_channel":\s*"[a-z_]{1,30}"\}'),
    # the satisfaction buttons (actions/satisfaction.py): a rating of 1 to 5
    re.compile(r'/inform\{"csat_score":\s*"[1-5]"\}'),
]


def clean(text: Any) -> str:
    """Customer text without invisible or control characters, NFKC-normalised, trimmed."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()


def client_key(kind: str, address: Any) -> str:
    """A client address as verification limits count it: hashed, so no IP address is stored."""
    digest = hashlib.sha256(f"crm-client:{kind}:{address}".encode("utf-8", "replace")).hexdigest()[:24]
    return f"{kind}:{digest}"


MAX_JSON_DEPTH = 32


def parse_json_body(body: Optional[bytes]) -> Any:
    """The JSON in a request body, or None when it is not valid JSON or nested deeper than
    MAX_JSON_DEPTH (Python's parser would otherwise recurse until it fails with a 500)."""
    raw = body or b""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:  # bodies are capped per endpoint before this runs
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return None
        elif byte in (0x5D, 0x7D):
            depth -= 1
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def is_allowed_payload(text: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in _ALLOWED_PAYLOADS)


@dataclass(frozen=True)
class Screened:
    text: Optional[str] = None  # what Rasa gets
    reply: Optional[str] = None  # or what the customer gets instead (Rasa never sees the message)
    reason: Optional[str] = None


def screen(text: Any, max_chars: int) -> Screened:
    cleaned = clean(text)
    while cleaned.startswith("/") and not is_allowed_payload(cleaned):  # "/\n/": strip until no slash leads
        cleaned = cleaned.lstrip("/ ").strip()
    if not cleaned:
        return Screened(reply=responses.render("utter_message_empty"), reason="empty")
    if len(cleaned) > max_chars:
        return Screened(reply=responses.render("utter_message_too_long", max_chars=max_chars), reason="too long")
    return Screened(text=cleaned)


class RateLimiter:
    """At most `limit` messages per sender in any `window` seconds (a sliding log per sender).
    In memory, per process: each Rasa replica or worker paces what it receives (with W workers a
    burst may pass W times `limit` before anyone is held). Thread-safe."""

    def __init__(
        self, limit: int, window: float, max_senders: int = 100_000, clock: Callable[[], float] = time.monotonic
    ):
        self.limit, self.window, self.max_senders, self.clock = limit, window, max_senders, clock
        self._seen: OrderedDict[str, Deque[float]] = OrderedDict()
        self._warned: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def _times(self, sender: str, now: float) -> Deque[float]:
        times = self._seen.pop(sender, None) or deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        self._seen[sender] = times  # most recently active last
        while len(self._seen) > self.max_senders:
            self._seen.popitem(last=False)
        return times

    def check(self, sender: str) -> Optional[bool]:
        """True: go ahead. False: over the limit, tell the sender (first time in this window).
        None: over the limit and already told."""
        if self.limit <= 0:
            return True
        now = self.clock()
        with self._lock:
            times = self._times(sender, now)
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

    def wait(self, sender: str) -> float:
        """Seconds until `sender` may send again (0 when it may now)."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            times = self._times(sender, now)
            if len(times) < self.limit:
                return 0.0
            return max(0.0, times[0] + self.window - now)

    def take(self, sender: str) -> None:
        """Count a message that goes through after waiting (held messages, merged)."""
        with self._lock:
            self._times(sender, self.clock()).append(self.clock())


OnNewMessage = Callable[[Any], Awaitable[Any]]
MAX_HELD = 100  # messages held per conversation: far more than anyone types in a minute
MAX_HELD_CONVERSATIONS = 10_000


class Held:
    """Messages over a conversation's pace, kept until the window allows one more message; then
    they reach Rasa merged into one message (answered once) and every held sender returns."""

    def __init__(self, limiter: RateLimiter, deliver: OnNewMessage, max_chars: int):
        self.limiter, self.deliver, self.max_chars = limiter, deliver, max_chars
        self.messages: Dict[str, List[Any]] = {}
        self.done: Dict[str, asyncio.Future[None]] = {}

    async def hold(self, key: str, message: Any) -> bool:
        """False when the message could not be held (a flood far beyond a customer's typing)."""
        held = self.messages.get(key)
        if held is None:
            if len(self.messages) >= MAX_HELD_CONVERSATIONS:
                return False
            held = self.messages[key] = []
            self.done[key] = asyncio.get_running_loop().create_future()
            asyncio.ensure_future(self._release(key))
        if len(held) >= MAX_HELD:
            return False
        held.append(message)
        await asyncio.shield(self.done[key])
        return True

    async def _release(self, key: str) -> None:
        try:
            while True:
                await asyncio.sleep(max(self.limiter.wait(key), 0.05))
                if self.limiter.wait(key) <= 0:
                    break
            self.limiter.take(key)
            held = self.messages.pop(key)
            for text in merge_texts([m.text for m in held], self.max_chars):
                last = held[-1]
                last.text = text
                await self.deliver(last)
        except Exception:
            logger.exception("held messages of %s could not be delivered", mask_phone(key))
        finally:
            self.messages.pop(key, None)
            done = self.done.pop(key, None)
            if done is not None and not done.done():
                done.set_result(None)


def merge_texts(texts: List[str], max_chars: int) -> List[str]:
    """Texts joined by new lines into as few messages of at most `max_chars` as they fit in."""
    merged: List[str] = []
    for text in texts:
        if merged and len(merged[-1]) + 1 + len(text) <= max_chars:
            merged[-1] += "\n" + text
        else:
            merged.append(text)
    return merged


def guard(on_new_message: OnNewMessage, limiter: RateLimiter, max_chars: int) -> OnNewMessage:
    """`on_new_message` behind the identifier check, the screen, the pace and an apology on failure."""

    async def deliver(message: Any) -> None:
        sender = str(message.sender_id)
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("Rasa could not handle a message from %s; the customer got an apology", mask_phone(sender))
            try:
                await message.output_channel.send_text_message(sender, responses.render("utter_system_unavailable"))
            except Exception:
                logger.exception("the apology to %s could not be sent either", mask_phone(sender))
            raise

    held = Held(limiter, deliver, max_chars)

    async def guarded(message: Any) -> None:
        sender = message.sender_id
        if conversations.parse(sender) is None:
            logger.warning("message refused: conversation id not in a channel's issued format")
            return
        channel = message.output_channel
        screened = screen(message.text, max_chars)
        if screened.reply:
            logger.info("message from %s refused (%s)", mask_phone(sender), screened.reason)
            await channel.send_text_message(sender, screened.reply)
            return
        message.text = screened.text
        verdict = limiter.check(sender)
        if verdict is True:
            await deliver(message)
            return
        logger.warning(
            "pace: %s sent more than %d messages in %d s; holding and merging",
            mask_phone(sender),
            limiter.limit,
            limiter.window,
        )
        if verdict is False:
            await channel.send_text_message(sender, responses.render("utter_rate_limited"))
        if not await held.hold(sender, message):
            logger.warning("flood: a message of %s was dropped (over %d held)", mask_phone(sender), MAX_HELD)

    return guarded


def guard_from_settings(on_new_message: OnNewMessage, settings: Any) -> OnNewMessage:
    """`guard()` with the pace and message limit of the settings: what every channel uses."""
    return guard(
        on_new_message,
        RateLimiter(settings.rate_limit_messages, settings.rate_limit_window_seconds),
        settings.max_message_chars,
    )
