"""Which messages count as activity, batched into daily rollups.

Activity feeds "consistency" in tier rules, so it has to be hard to farm: bots, ignored channels,
low-effort text, bursts within a cooldown and replayed gateway events never count, and a message
deleted soon after posting is taken back. Counts are buffered per (member, local day) and drained
in batches so the database sees one upsert per member-day, not one row per message.

Pure: time always comes from the message (``created_at``/``deleted_at``), never the clock.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

#: A rollup row's key: (member id, the message's date in the program's time zone).
RollupKey = tuple[int, date]

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class ActivityRules:
    #: After a counted message, the member's next messages don't count until this has passed.
    cooldown_seconds: int = 60
    #: Characters of real text: mentions, links, emoji and whitespace don't count towards it.
    min_length: int = 10
    ignored_channels: frozenset[int] = frozenset()
    ignored_categories: frozenset[int] = frozenset()
    #: Deleting a counted message this soon after posting it takes the count back.
    uncount_deleted_within_seconds: int = 300
    #: The "day" a message belongs to is its date in this zone.
    timezone: ZoneInfo = _UTC

    def __post_init__(self) -> None:
        if self.cooldown_seconds < 0:
            raise ValueError("cooldown_seconds can't be negative")
        if self.min_length < 0:
            raise ValueError("min_length can't be negative")
        if self.uncount_deleted_within_seconds < 0:
            raise ValueError("uncount_deleted_within_seconds can't be negative")


@dataclass(frozen=True)
class MessageFacts:
    message_id: int
    guild_id: int
    channel_id: int
    #: For a thread, the parent channel's category.
    category_id: int | None
    #: For a thread, its parent channel (a thread in an ignored channel is ignored too).
    parent_channel_id: int | None
    author_id: int
    author_is_bot: bool
    is_webhook: bool
    is_system: bool
    content: str
    #: Must be timezone-aware.
    created_at: datetime


@dataclass(frozen=True)
class Verdict:
    counted: bool
    #: "counted", or a short reason it wasn't (for logs and the moderator's "why didn't it count").
    reason: str


@dataclass(frozen=True)
class RollupBatch:
    """What to write: add each increment to its rollup row, then subtract 1 per decrement.

    Decrements are only for messages whose +1 was in an earlier batch, so their row exists.
    """

    increments: dict[RollupKey, int] = field(default_factory=dict)
    decrements: list[RollupKey] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.increments and not self.decrements


# --- Text -----------------------------------------------------------------------------------

_CUSTOM_EMOJI = re.compile(r"<a?:\w+:\d+>")
#: Keycap emoji ("1️⃣") start with a digit, so they're removed before looking for letters.
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")
#: Mentions (user, role, channel, slash command), timestamps, links and whitespace: none of it
#: is text the member wrote.
_NOISE = re.compile(
    r"<@[!&]?\d+>|<\#\d+>|</[^<>\s]+:\d+>|<t:-?\d+(?::[a-zA-Z])?>"
    r"|<?https?://[^\s<>]+>?|@everyone|@here|\s+"
)
#: Emoji, skin tones, zero-width joiners, tags and keycap marks. Regional indicators are "So".
_SYMBOL_CATEGORIES = frozenset({"So", "Sk", "Me", "Cf"})
#: A repeated unit this long or shorter ("lol", "asdf") is spam however long the message.
_MAX_REPEAT_UNIT = 12
_MIN_DISTINCT = 4
_MAX_SHARE_OF_ONE_CHAR = 0.6


def _is_variation_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _real_text(text: str) -> tuple[str, bool]:
    """The text without emoji, and whether there were any.

    A combining mark (category Mn) stays when it sits on real text, as in Devanagari or Arabic,
    and goes when it modifies an emoji (variation selectors always go).
    """
    if text.isascii():
        return text, False
    kept: list[str] = []
    had_symbols = False
    on_text = False
    for ch in text:
        if ch.isascii():
            kept.append(ch)
            on_text = True
            continue
        category = unicodedata.category(ch)
        if category in _SYMBOL_CATEGORIES:
            had_symbols = True
            on_text = False
        elif category == "Mn":
            if on_text and not _is_variation_selector(ch):
                kept.append(ch)
            else:
                had_symbols = True
        else:
            kept.append(ch)
            on_text = True
    return "".join(kept), had_symbols


def _is_repetitive(text: str) -> bool:
    n = len(text)
    distinct = set(text)
    if len(distinct) < _MIN_DISTINCT:
        return True
    if max(map(text.count, distinct)) > _MAX_SHARE_OF_ONE_CHAR * n:
        return True
    # Periodic with a short unit repeated at least three times ("hahaha", "asdfasdfasdf"). A
    # period must start with the first character again, so only those offsets are tried.
    longest = min(_MAX_REPEAT_UNIT, n // 3)
    unit = text.find(text[0], 1, longest + 1)
    while unit != -1:
        if text[unit:] == text[:-unit]:
            return True
        unit = text.find(text[0], unit + 1, longest + 1)
    return False


def _strip_noise(text: str) -> tuple[str, int]:
    """Remove custom emoji, keycaps, mentions, links and whitespace; count emoji removed."""
    emoji = 0
    if "<" in text:
        text, emoji = _CUSTOM_EMOJI.subn("", text)
    if "\u20e3" in text:
        text, keycaps = _KEYCAP.subn("", text)
        emoji += keycaps
    # The regex is the slow part, and most messages have nothing for it to find.
    if "<" in text or "@" in text or "http" in text:
        return _NOISE.sub("", text), emoji
    return "".join(text.split()), emoji


def text_qualifies(content: str, min_length: int) -> str | None:
    """None if the text is real enough to count, else a short reason.

    Mentions, links, custom emoji and whitespace are removed first; unicode emoji don't count
    towards the length either, so a "gm 🎉🎉🎉🎉🎉🎉🎉🎉" can't pad its way past ``min_length``.
    """
    text, emoji = _strip_noise(unicodedata.normalize("NFC", content))
    real, had_symbols = _real_text(text)
    if not real:
        if emoji or had_symbols:
            return "only emoji"
        return "only links or mentions" if content.strip() else "empty"
    if len(real) < min_length:
        return f"too short (under {min_length} characters)"
    folded = real.casefold()
    if _is_repetitive(folded):
        return "repeated characters"
    if not any(ch.isalnum() for ch in folded):
        return "no letters or digits"
    return None


# --- Counting -------------------------------------------------------------------------------

_BOT = Verdict(False, "bot author")
_WEBHOOK = Verdict(False, "webhook")
_SYSTEM = Verdict(False, "system message")
_IGNORED_CHANNEL = Verdict(False, "ignored channel")
_IGNORED_CATEGORY = Verdict(False, "ignored category")
_REPLAYED = Verdict(False, "already seen")
_COOLDOWN = Verdict(False, "cooldown")
_COUNTED = Verdict(True, "counted")


@dataclass(frozen=True, slots=True)
class _Counted:
    author_id: int
    day: date
    created_at: datetime


def _require_aware(moment: datetime, name: str) -> None:
    # Discord's times carry ``datetime.UTC``: known aware without asking ``utcoffset()``, which
    # costs more than the rest of a cooldown decision.
    if moment.tzinfo is not UTC and moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")  # naive, or a zone without offset


class ActivityCounter:
    """In-memory, per guild. Decides per message and buffers the increments until drained.

    Memory is bounded: at most ``remembered_messages`` message ids (oldest forgotten first, so a
    deletion or replay older than that can no longer be matched), and last-counted times only
    for members whose cooldown could still apply. Not thread-safe; use from one event loop.
    """

    def __init__(self, rules: ActivityRules, *, remembered_messages: int = 50_000) -> None:
        if remembered_messages < 1:
            raise ValueError("remembered_messages must be at least 1")
        self._rules = rules
        self._capacity = remembered_messages
        self._cooldown = timedelta(seconds=rules.cooldown_seconds)
        self._uncount_window = timedelta(seconds=rules.uncount_deleted_within_seconds)
        #: Message ids seen, and (apart) the counted ones with their count, until taken back.
        #: A dict of ints alone is one CPython's garbage collector never walks: with the
        #: counts in it, 50,000 entries were walked in every full collection (bench/ingest.py).
        self._seen: dict[int, None] = {}
        self._counted: dict[int, _Counted] = {}
        #: The ids in ``_seen`` in a ring, the oldest next to be overwritten: raw integers, one
        #: object to the collector (a deque of ints is walked id by id, like a list).
        self._ring = array("q", bytes(8 * remembered_messages))
        self._next = 0
        #: member id -> created_at of their last counted message, least recently counted first.
        self._last_counted: OrderedDict[int, datetime] = OrderedDict()
        self._increments: dict[RollupKey, int] = {}
        self._decrements: list[RollupKey] = []

    @property
    def rules(self) -> ActivityRules:
        return self._rules

    def observe(self, msg: MessageFacts) -> Verdict:
        """Decide whether ``msg`` counts; if it does, buffer +1 for its member and local day."""
        if msg.author_is_bot:
            return _BOT
        if msg.is_webhook:
            return _WEBHOOK
        if msg.is_system:
            return _SYSTEM
        return self.observe_post(
            msg.message_id,
            msg.author_id,
            msg.channel_id,
            msg.parent_channel_id,
            msg.category_id,
            msg.created_at,
            msg.content,
        )

    def observe_post(
        self,
        message_id: int,
        author_id: int,
        channel_id: int,
        parent_channel_id: int | None,
        category_id: int | None,
        created_at: datetime,
        content: str,
    ) -> Verdict:
        """``observe`` for a member's own post (not a bot's, a webhook's or a system message).

        The same decision, from plain values: the bot calls this for every message in the
        server, and most are decided by the cooldown before the text is looked at, so it
        doesn't build a ``MessageFacts`` first.
        """
        rules = self._rules
        ignored = rules.ignored_channels
        if ignored and (channel_id in ignored or parent_channel_id in ignored):
            return _IGNORED_CHANNEL
        if category_id is not None and category_id in rules.ignored_categories:
            return _IGNORED_CATEGORY

        if message_id in self._seen:
            return _REPLAYED
        _require_aware(created_at, "created_at")
        self._remember(message_id)

        last = self._last_counted.get(author_id)
        # abs(): an event delivered late is judged by when it was written, in either direction.
        if last is not None and abs(created_at - last) < self._cooldown:
            return _COOLDOWN

        reason = text_qualifies(content, rules.min_length)
        if reason is not None:
            return Verdict(False, reason)
        return self._count(message_id, author_id, created_at)

    def screen(
        self,
        channel_id: int,
        parent_channel_id: int | None,
        category_id: int | None,
        content: str,
    ) -> Verdict | None:
        """The rules that don't depend on other messages (channel, category, text): a refusal,
        or None if only the cooldown is left to decide.

        A history backfill reads channels one after another, so it screens each message as
        read and applies the cooldown (:meth:`count_screened`) once all are read, in time
        order. That is the same decision as :meth:`observe_post`: a message refused here
        never moves the cooldown.
        """
        rules = self._rules
        if channel_id in rules.ignored_channels or parent_channel_id in rules.ignored_channels:
            return _IGNORED_CHANNEL
        if category_id is not None and category_id in rules.ignored_categories:
            return _IGNORED_CATEGORY
        reason = text_qualifies(content, rules.min_length)
        return None if reason is None else Verdict(False, reason)

    def count_screened(self, message_id: int, author_id: int, created_at: datetime) -> Verdict:
        """The cooldown half of :meth:`observe_post`, for a message :meth:`screen` passed."""
        if message_id in self._seen:
            return _REPLAYED
        _require_aware(created_at, "created_at")
        self._remember(message_id)
        last = self._last_counted.get(author_id)
        if last is not None and abs(created_at - last) < self._cooldown:
            return _COOLDOWN
        return self._count(message_id, author_id, created_at)

    def _remember(self, message_id: int) -> None:
        """Remember a message id, forgetting the oldest once ``remembered_messages`` are."""
        seen, ring, slot = self._seen, self._ring, self._next
        if len(seen) >= self._capacity:
            oldest = ring[slot]
            del seen[oldest]
            self._counted.pop(oldest, None)
        seen[message_id] = None
        ring[slot] = message_id
        self._next = slot + 1 if slot + 1 < self._capacity else 0

    def _count(self, message_id: int, author_id: int, created_at: datetime) -> Verdict:
        """Count the message: +1 for its member and local day, and the cooldown restarts."""
        day = created_at.astimezone(self._rules.timezone).date()
        self._counted[message_id] = _Counted(author_id, day, created_at)
        self._remember_counted(author_id, created_at)
        key = (author_id, day)
        self._increments[key] = self._increments.get(key, 0) + 1
        return _COUNTED

    def deleted(self, message_id: int, *, deleted_at: datetime) -> bool:
        """Take back a counted message deleted within the window. True if it was taken back.

        Only once per message; unknown, uncounted or forgotten messages return False.
        """
        counted = self._counted.get(message_id)
        if counted is None:
            return False
        _require_aware(deleted_at, "deleted_at")
        if deleted_at - counted.created_at > self._uncount_window:
            return False
        del self._counted[message_id]
        self._subtract((counted.author_id, counted.day))
        return True

    def drain(self) -> RollupBatch:
        """Hand over everything buffered and start empty. Write the batch, or ``requeue`` it."""
        batch = RollupBatch(self._increments, self._decrements)
        self._increments = {}
        self._decrements = []
        return batch

    def requeue(self, batch: RollupBatch) -> None:
        """Put back a drained batch that couldn't be written, so the next drain retries it."""
        for key, amount in batch.increments.items():
            self._increments[key] = self._increments.get(key, 0) + amount
        for key in batch.decrements:
            self._subtract(key)

    @property
    def pending(self) -> int:
        """Buffered increments not yet drained (decrements are in ``pending_decrements``)."""
        return sum(self._increments.values())

    @property
    def pending_decrements(self) -> int:
        return len(self._decrements)

    @property
    def remembered(self) -> int:
        """Message ids currently remembered (never more than ``remembered_messages``)."""
        return len(self._seen)

    @property
    def tracked_members(self) -> int:
        """Members whose last counted time is kept for the cooldown."""
        return len(self._last_counted)

    def continue_from(self, earlier: ActivityCounter) -> None:
        """Carry on where ``earlier`` stopped: its cooldowns and the messages it has seen.

        A history catch-up counts the messages before a moment with a counter of its own;
        the live counter then takes over, so a post just after that moment is judged against
        the member's last counted post just before it, as one uninterrupted bot would.
        """
        for message_id in earlier._seen:
            if message_id not in self._seen:
                self._remember(message_id)
                if (counted := earlier._counted.get(message_id)) is not None:
                    self._counted[message_id] = counted
        for author, at in earlier._last_counted.items():
            last = self._last_counted.get(author)
            if last is None or at > last:
                self._remember_counted(author, at)

    def _remember_counted(self, author: int, created: datetime) -> None:
        last_counted = self._last_counted
        last_counted[author] = created
        last_counted.move_to_end(author)
        # Forget members whose cooldown is over: a time that old can't block anything newer.
        horizon = created - self._cooldown
        while last_counted:
            oldest, at = next(iter(last_counted.items()))
            if oldest == author or (at > horizon and len(last_counted) <= self._capacity):
                break
            del last_counted[oldest]

    def _subtract(self, key: RollupKey) -> None:
        """Net a -1 against a still-buffered +1 for the same row, else queue a decrement."""
        buffered = self._increments.get(key, 0)
        if buffered > 1:
            self._increments[key] = buffered - 1
        elif buffered == 1:
            del self._increments[key]
        else:
            self._decrements.append(key)
