"""Activity counting: what counts, cooldowns, replays, deletions, rollup batches, bounded memory."""

import gc
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.activity import (
    ActivityCounter,
    ActivityRules,
    MessageFacts,
    RollupBatch,
    Verdict,
    text_qualifies,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DAY = date(2024, 5, 1)
TEXT = "Thanks, that fixed my build!"
ALICE, BOB = 1001, 1002
_ids = count(1)


def msg(
    *,
    at: datetime = T0,
    author: int = ALICE,
    content: str = TEXT,
    message_id: int | None = None,
    **overrides: Any,
) -> MessageFacts:
    facts = MessageFacts(
        message_id=next(_ids) if message_id is None else message_id,
        guild_id=1,
        channel_id=10,
        category_id=20,
        parent_channel_id=None,
        author_id=author,
        author_is_bot=False,
        is_webhook=False,
        is_system=False,
        content=content,
        created_at=at,
    )
    return replace(facts, **overrides)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- text_qualifies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        TEXT,
        "hello there friends",
        "Can someone review PR #42?",
        "<@123> thanks for the quick review!",
        "see https://example.com/docs — it explains the config",
        "I ❤️ this project so much",
        "Ça marche très bien, merci",
        "नमस्ते दोस्तों, कैसे हो?",
        "こんにちは、元気ですか",
        "Спасибо за помощь!",
        "1234567890",
    ],
)
def test_real_text_qualifies(content: str) -> None:
    assert text_qualifies(content, 10) is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("short", "too short (under 10 characters)"),
        ("  ok  then  ", "too short (under 10 characters)"),  # whitespace isn't text
        ("gm 🎉🎉🎉🎉🎉🎉🎉🎉", "too short (under 10 characters)"),  # emoji don't pad
        ("<@123456789> hi", "too short (under 10 characters)"),
        ("<@123> <@!456> <@&789> <#1011>", "only links or mentions"),
        ("https://example.com/a-very-long-path", "only links or mentions"),
        ("<https://example.com/suppressed-embed>", "only links or mentions"),
        ("@everyone @here", "only links or mentions"),
        ("🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉", "only emoji"),
        ("👍🏽👍🏽👍🏽👍🏽👍🏽", "only emoji"),  # skin tone modifiers
        ("👨‍👩‍👧‍👦 👨‍👩‍👧‍👦 👨‍👩‍👧‍👦", "only emoji"),  # ZWJ sequences
        ("<:pepe:123456> <a:dance:654321> 🎉", "only emoji"),  # custom emoji
        ("<:pepe:123456> <a:dance:654321>", "only emoji"),
        ("❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️", "only emoji"),  # variation selectors
        ("🇺🇸🇬🇧🇫🇷🇩🇪🇯🇵🇮🇹", "only emoji"),  # regional indicators
        ("1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣9️⃣🔟", "only emoji"),  # keycaps start with a digit
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿🏴󠁧󠁢󠁳󠁣󠁴󠁿🏴󠁧󠁢󠁳󠁣󠁴󠁿", "only emoji"),  # tag sequences
        ("aaaaaaaaaaaa", "repeated characters"),
        ("!!!!!!!!!!", "repeated characters"),
        ("hahahahahaha", "repeated characters"),
        ("HaHaHaHaHaHa", "repeated characters"),
        ("hahahahahah", "repeated characters"),  # partial last unit
        ("lol lol lol lol", "repeated characters"),
        ("asdfasdfasdf", "repeated characters"),
        ("abcabcabcabc", "repeated characters"),
        ("aaaaaaaaaabcd", "repeated characters"),  # one character over 60%
        ("ab ab ab ab ab 🎉", "repeated characters"),
        ("?!.,;:-()[]{}", "no letters or digits"),
        ("¿¡…«»“”‘’—–", "no letters or digits"),
    ],
)
def test_low_effort_text_is_refused(content: str, reason: str) -> None:
    assert text_qualifies(content, 10) == reason


def test_min_length_is_a_boundary() -> None:
    assert text_qualifies("abcdefghij", 10) is None
    assert text_qualifies("abcdefghi", 10) == "too short (under 10 characters)"
    assert text_qualifies("abcdefghi", 9) is None


def test_min_length_zero_still_refuses_noise() -> None:
    assert text_qualifies("", 0) == "empty"
    assert text_qualifies("🎉", 0) == "only emoji"


def test_decomposed_accents_measure_like_composed_ones() -> None:
    composed = "éèêëàâäôöü"
    decomposed = "e\u0301e\u0300e\u0302e\u0308a\u0300a\u0302a\u0308o\u0302o\u0308u\u0308"
    assert text_qualifies(composed, 10) is None
    assert text_qualifies(decomposed, 10) is None
    assert text_qualifies(decomposed, 11) == "too short (under 11 characters)"


@given(st.text(), st.integers(0, 40))
def test_text_qualifies_handles_any_text(content: str, min_length: int) -> None:
    reason = text_qualifies(content, min_length)
    if reason is None:
        assert any(ch.isalnum() for ch in content)
        assert len("".join(content.split())) >= min_length
    else:
        assert reason


# --- observe: filters -------------------------------------------------------------------------


def counter(**rules: Any) -> ActivityCounter:
    return ActivityCounter(ActivityRules(**rules))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"author_is_bot": True}, "bot author"),
        ({"is_webhook": True}, "webhook"),
        ({"is_system": True}, "system message"),
        ({"channel_id": 66}, "ignored channel"),
        ({"channel_id": 300, "parent_channel_id": 66}, "ignored channel"),  # thread
        ({"category_id": 77}, "ignored category"),
        ({"content": "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉"}, "only emoji"),
        ({"content": "short"}, "too short (under 10 characters)"),
        ({"content": "hahahahahaha"}, "repeated characters"),
    ],
)
def test_refused_messages_are_not_buffered(overrides: dict[str, Any], reason: str) -> None:
    c = counter(ignored_channels=frozenset({66}), ignored_categories=frozenset({77}))
    assert c.observe(msg(**overrides)) == Verdict(False, reason)
    assert c.pending == 0
    assert c.drain().empty


def test_a_thread_in_a_counted_channel_counts() -> None:
    c = counter(ignored_channels=frozenset({66}))
    assert c.observe(msg(channel_id=300, parent_channel_id=10)).counted


def test_counted_message_buffers_one_for_member_and_day() -> None:
    c = counter()
    assert c.observe(msg()) == Verdict(True, "counted")
    assert c.pending == 1
    assert c.drain() == RollupBatch({(ALICE, DAY): 1}, [])
    assert c.pending == 0
    assert c.drain().empty


def test_cheap_checks_run_before_text_analysis() -> None:
    c = counter(ignored_channels=frozenset({66}))
    # Content that would crash the text analysis if it were ever reached.
    poison: str = None  # type: ignore[assignment]
    assert c.observe(msg(author_is_bot=True, content=poison)).reason == "bot author"
    assert c.observe(msg(channel_id=66, content=poison)).reason == "ignored channel"
    c.observe(msg(message_id=5))
    assert c.observe(msg(message_id=5, content=poison)).reason == "already seen"
    assert c.observe(msg(at=later(1), content=poison)).reason == "cooldown"


def post_args(m: MessageFacts) -> tuple[Any, ...]:
    return (
        m.message_id,
        m.author_id,
        m.channel_id,
        m.parent_channel_id,
        m.category_id,
        m.created_at,
        m.content,
    )


@given(
    st.lists(
        st.tuples(
            st.integers(1, 12),  # message id: small, so some are replays
            st.sampled_from([ALICE, BOB]),
            st.sampled_from([(10, None), (66, None), (300, 66), (300, 10)]),  # channel, parent
            st.sampled_from([20, 77, None]),
            st.integers(0, 200),  # seconds after T0
            st.sampled_from([TEXT, "lol", "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉"]),
        ),
        max_size=30,
    )
)
@settings(max_examples=200)
def test_observe_post_decides_exactly_as_observe_does(posts: list[tuple[Any, ...]]) -> None:
    """The hot path skips MessageFacts; for a member's post it must be the same decision."""
    rules = {"ignored_channels": frozenset({66}), "ignored_categories": frozenset({77})}
    by_facts, by_values = counter(**rules), counter(**rules)
    for message_id, author, (channel, parent), category, second, content in posts:
        m = msg(
            message_id=message_id,
            author=author,
            channel_id=channel,
            parent_channel_id=parent,
            category_id=category,
            at=later(second),
            content=content,
        )
        assert by_values.observe_post(*post_args(m)) == by_facts.observe(m)
    assert by_values.drain() == by_facts.drain()


# --- cooldown ---------------------------------------------------------------------------------


def test_cooldown_boundary_exactly_cooldown_later_counts() -> None:
    c = counter(cooldown_seconds=60)
    assert c.observe(msg(at=T0)).counted
    assert c.observe(msg(at=later(59.999))).reason == "cooldown"
    assert c.observe(msg(at=later(60))).counted
    assert c.pending == 2


def test_cooldown_runs_from_the_last_counted_message_not_the_last_message() -> None:
    c = counter(cooldown_seconds=60)
    assert c.observe(msg(at=T0)).counted
    for second in (10, 20, 30, 40, 50):  # refused messages don't extend the cooldown
        assert not c.observe(msg(at=later(second))).counted
    assert c.observe(msg(at=later(60))).counted


def test_refused_text_does_not_start_a_cooldown() -> None:
    c = counter(cooldown_seconds=60)
    assert not c.observe(msg(at=T0, content="lol")).counted
    assert c.observe(msg(at=later(1))).counted


def test_cooldown_is_per_member() -> None:
    c = counter(cooldown_seconds=60)
    assert c.observe(msg(author=ALICE, at=T0)).counted
    assert c.observe(msg(author=BOB, at=later(1))).counted
    assert c.observe(msg(author=ALICE, at=later(2))).reason == "cooldown"
    assert c.observe(msg(author=BOB, at=later(3))).reason == "cooldown"
    assert c.drain().increments == {(ALICE, DAY): 1, (BOB, DAY): 1}


def test_late_delivered_message_is_judged_by_its_created_at() -> None:
    c = counter(cooldown_seconds=60)
    assert c.observe(msg(at=later(100))).counted
    assert c.observe(msg(at=later(70))).reason == "cooldown"
    assert c.observe(msg(at=later(30))).counted


def test_zero_cooldown_counts_every_message() -> None:
    c = counter(cooldown_seconds=0)
    for _ in range(5):
        assert c.observe(msg(at=T0)).counted
    assert c.pending == 5


# --- replays ----------------------------------------------------------------------------------


def test_replayed_message_id_is_never_counted_twice() -> None:
    c = counter(cooldown_seconds=0)
    first = msg(message_id=42)
    assert c.observe(first).counted
    assert c.observe(first) == Verdict(False, "already seen")
    c.drain()
    assert c.observe(first) == Verdict(False, "already seen")  # even after a flush
    assert c.drain().empty


def test_replayed_refusal_stays_refused() -> None:
    c = counter(cooldown_seconds=0)
    assert not c.observe(msg(message_id=7, content="lol")).counted
    assert c.observe(msg(message_id=7)).reason == "already seen"


# --- day boundaries ---------------------------------------------------------------------------


def test_day_is_the_local_date_in_the_program_time_zone() -> None:
    c = counter(timezone=ZoneInfo("Europe/Berlin"))
    late_evening_utc = datetime(2024, 5, 1, 23, 30, tzinfo=UTC)  # 01:30 on May 2 in Berlin
    assert c.observe(msg(at=late_evening_utc)).counted
    assert c.drain().increments == {(ALICE, date(2024, 5, 2)): 1}


def test_utc_default_keeps_the_utc_date() -> None:
    c = counter()
    c.observe(msg(at=datetime(2024, 5, 1, 23, 30, tzinfo=UTC)))
    assert c.drain().increments == {(ALICE, date(2024, 5, 1)): 1}


def test_zone_of_created_at_does_not_matter() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    c = counter(timezone=ZoneInfo("America/New_York"))
    # 08:00 on May 2 in Tokyo is 19:00 on May 1 in New York.
    c.observe(msg(at=datetime(2024, 5, 2, 8, 0, tzinfo=tokyo)))
    assert c.drain().increments == {(ALICE, date(2024, 5, 1)): 1}


def test_messages_either_side_of_local_midnight_go_to_different_days() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    c = counter(timezone=berlin, cooldown_seconds=60)
    c.observe(msg(at=datetime(2024, 5, 1, 23, 59, tzinfo=berlin)))
    c.observe(msg(at=datetime(2024, 5, 2, 0, 0, tzinfo=berlin)))  # 60 s later
    assert c.drain().increments == {(ALICE, date(2024, 5, 1)): 1, (ALICE, date(2024, 5, 2)): 1}


def test_naive_created_at_is_rejected() -> None:
    c = counter()
    with pytest.raises(ValueError, match="timezone-aware"):
        c.observe(msg(at=datetime(2024, 5, 1, 12, 0)))


# --- deletions --------------------------------------------------------------------------------


def test_deletion_within_window_before_drain_nets_out_the_increment() -> None:
    c = counter()
    c.observe(msg(message_id=1))
    assert c.deleted(1, deleted_at=later(299)) is True
    assert c.pending == 0
    assert c.drain() == RollupBatch({}, [])


def test_deletion_nets_against_only_one_of_several_increments() -> None:
    c = counter(cooldown_seconds=0)
    c.observe(msg(message_id=1))
    c.observe(msg(message_id=2))
    assert c.deleted(1, deleted_at=later(10))
    assert c.drain() == RollupBatch({(ALICE, DAY): 1}, [])


def test_deletion_after_drain_becomes_a_decrement() -> None:
    c = counter()
    c.observe(msg(message_id=1))
    assert c.drain().increments == {(ALICE, DAY): 1}
    assert c.deleted(1, deleted_at=later(60))
    assert c.pending == 0
    assert c.pending_decrements == 1
    assert c.drain() == RollupBatch({}, [(ALICE, DAY)])
    assert c.pending_decrements == 0


def test_deletion_after_drain_nets_against_a_new_increment_for_the_same_row() -> None:
    c = counter(cooldown_seconds=0)
    c.observe(msg(message_id=1))
    c.drain()
    c.observe(msg(message_id=2))
    assert c.deleted(1, deleted_at=later(5))
    assert c.drain().empty  # +1 already written, +1 -1 buffered: nothing more to write


def test_deletion_exactly_at_the_window_edge_uncounts() -> None:
    c = counter(uncount_deleted_within_seconds=300)
    c.observe(msg(message_id=1))
    assert c.deleted(1, deleted_at=later(300))


def test_deletion_after_the_window_keeps_the_count() -> None:
    c = counter(uncount_deleted_within_seconds=300)
    c.observe(msg(message_id=1))
    assert c.deleted(1, deleted_at=later(300.001)) is False
    assert c.drain().increments == {(ALICE, DAY): 1}


def test_deletion_of_uncounted_or_unknown_message_does_nothing() -> None:
    c = counter()
    c.observe(msg(message_id=1))
    c.observe(msg(message_id=2, at=later(1)))  # cooldown
    c.observe(msg(message_id=3, content="lol"))
    c.observe(msg(message_id=4, author_is_bot=True))
    for message_id in (2, 3, 4, 999):
        assert c.deleted(message_id, deleted_at=later(5)) is False
    assert c.drain() == RollupBatch({(ALICE, DAY): 1}, [])


def test_deletion_only_uncounts_once() -> None:
    c = counter()
    c.observe(msg(message_id=1))
    c.drain()
    assert c.deleted(1, deleted_at=later(5))
    assert c.deleted(1, deleted_at=later(6)) is False
    assert c.drain().decrements == [(ALICE, DAY)]


def test_deleted_message_still_holds_the_cooldown() -> None:
    """Post, delete, repost within the cooldown: the repost doesn't count either."""
    c = counter(cooldown_seconds=60)
    c.observe(msg(message_id=1))
    c.deleted(1, deleted_at=later(2))
    assert c.observe(msg(message_id=2, at=later(3))).reason == "cooldown"


def test_decrement_uses_the_day_the_message_was_counted_for() -> None:
    c = counter(timezone=ZoneInfo("Europe/Berlin"))
    c.observe(msg(message_id=1, at=datetime(2024, 5, 1, 21, 58, tzinfo=UTC)))  # 23:58 Berlin
    c.drain()
    assert c.deleted(1, deleted_at=datetime(2024, 5, 1, 22, 2, tzinfo=UTC))  # 00:02 Berlin
    assert c.drain().decrements == [(ALICE, date(2024, 5, 1))]


# --- drain / requeue --------------------------------------------------------------------------


def test_drain_groups_increments_by_member_and_day() -> None:
    c = counter(cooldown_seconds=60)
    for minute in range(5):
        c.observe(msg(author=ALICE, at=later(60 * minute)))
    c.observe(msg(author=BOB, at=later(0)))
    c.observe(msg(author=BOB, at=T0 + timedelta(days=1)))
    assert c.pending == 7
    assert c.drain().increments == {
        (ALICE, DAY): 5,
        (BOB, DAY): 1,
        (BOB, date(2024, 5, 2)): 1,
    }


def test_requeue_puts_a_failed_batch_back() -> None:
    c = counter(cooldown_seconds=0)
    c.observe(msg(message_id=1))
    c.observe(msg(message_id=2))
    failed = c.drain()
    c.observe(msg(message_id=3))
    c.requeue(failed)
    assert c.pending == 3
    assert c.deleted(1, deleted_at=later(1))  # nets against the requeued +1
    assert c.drain() == RollupBatch({(ALICE, DAY): 2}, [])


def test_requeued_decrement_nets_against_a_buffered_increment() -> None:
    c = counter(cooldown_seconds=0)
    c.observe(msg(message_id=1))
    c.drain()
    c.deleted(1, deleted_at=later(1))
    failed = c.drain()
    assert failed.decrements == [(ALICE, DAY)]
    c.observe(msg(message_id=2))
    c.requeue(failed)
    assert c.drain().empty


# --- bounded memory ---------------------------------------------------------------------------


def test_memory_stays_bounded_over_many_messages() -> None:
    c = ActivityCounter(ActivityRules(cooldown_seconds=60), remembered_messages=1000)
    template = msg()
    for i in range(200_000):
        # 200k distinct ids from the same 5,000 members, a message every half second.
        c.observe(replace(template, message_id=i, author_id=i % 5000, created_at=later(i / 2)))
        assert c.remembered <= 1000
        assert c.tracked_members <= 1000
    assert c.remembered == 1000
    assert c.pending == 200_000  # every one of them counted: bounded memory loses no counts


def test_members_past_their_cooldown_are_forgotten() -> None:
    c = ActivityCounter(ActivityRules(cooldown_seconds=60))
    for i in range(3000):
        c.observe(msg(author=i, at=later(i)))  # one new member per second
    # Only members who counted in the last minute can still be on cooldown.
    assert c.tracked_members <= 61


def test_forgotten_message_can_no_longer_be_uncounted() -> None:
    c = ActivityCounter(ActivityRules(cooldown_seconds=0), remembered_messages=2)
    for message_id in (1, 2, 3):
        c.observe(msg(message_id=message_id))
    assert c.deleted(1, deleted_at=later(1)) is False
    assert c.deleted(3, deleted_at=later(1)) is True


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(st.integers(1, 40), max_size=120),
    capacity=st.integers(1, 8),
)
def test_the_last_messages_seen_are_remembered_oldest_forgotten_first(
    ids: list[int], capacity: int
) -> None:
    """A replay is recognised exactly while its id is among the last ``capacity`` distinct
    ids seen (a first-in, first-out memory of distinct ids)."""
    c = ActivityCounter(ActivityRules(cooldown_seconds=0), remembered_messages=capacity)
    model: list[int] = []
    for message_id in ids:
        verdict = c.observe(msg(message_id=message_id, author=message_id))
        assert (verdict.reason == "already seen") == (message_id in model)
        if message_id not in model:
            model.append(message_id)
            del model[:-capacity]
        assert c.remembered == len(model)


def test_continuing_from_a_bigger_memory_keeps_to_its_own_bound() -> None:
    earlier = ActivityCounter(ActivityRules(cooldown_seconds=0), remembered_messages=100)
    for message_id in range(1, 101):
        earlier.observe(msg(message_id=message_id))
    live = ActivityCounter(ActivityRules(cooldown_seconds=0), remembered_messages=10)
    live.continue_from(earlier)
    assert live.remembered == 10
    assert live.observe(msg(message_id=100)).reason == "already seen"
    assert live.observe(msg(message_id=1)).counted, "the oldest were forgotten"


def test_the_message_memory_is_nothing_the_garbage_collector_walks() -> None:
    """Its ids and their order hold no object the collector follows, however many messages:
    a full collection walked 50,000 remembered ids on every pass (bench/ingest.py)."""
    c = ActivityCounter(ActivityRules(cooldown_seconds=60), remembered_messages=1000)
    for i in range(5000):
        c.observe(msg(message_id=10**18 + i, author=i % 50, at=later(i)))
    assert not gc.is_tracked(c._seen)
    assert len(gc.get_referents(c._ring)) <= 1, "an array: one object, not one per id"


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError):
        ActivityRules(cooldown_seconds=-1)
    with pytest.raises(ValueError):
        ActivityRules(min_length=-1)
    with pytest.raises(ValueError):
        ActivityRules(uncount_deleted_within_seconds=-1)
    with pytest.raises(ValueError):
        ActivityCounter(ActivityRules(), remembered_messages=0)


# --- properties -------------------------------------------------------------------------------

_CONTENTS = [TEXT, "Another helpful answer here", "lol", "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉"]
_BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Observe:
    message_id: int
    author: int
    offset: int
    content: str


@dataclass(frozen=True)
class Delete:
    message_id: int
    delay: int


@dataclass(frozen=True)
class Drain:
    pass


_ops = st.one_of(
    # Small message ids, so replays happen; offsets over three days, so days change.
    st.builds(
        Observe,
        st.integers(0, 30),
        st.sampled_from([ALICE, BOB, 1003]),
        st.integers(0, 3 * 86_400),
        st.sampled_from(_CONTENTS),
    ),
    st.builds(Delete, st.integers(0, 30), st.integers(0, 600)),
    st.just(Drain()),
)


@settings(max_examples=500, deadline=None)
@given(
    ops=st.lists(_ops, max_size=80),
    cooldown=st.sampled_from([0, 30, 60]),
    capacity=st.sampled_from([3, 50_000]),
)
def test_drained_totals_equal_counted_minus_uncounted(
    ops: list[Observe | Delete | Drain], cooldown: int, capacity: int
) -> None:
    c = ActivityCounter(
        ActivityRules(cooldown_seconds=cooldown, timezone=_BERLIN), remembered_messages=capacity
    )
    expected: Counter[tuple[int, date]] = Counter()
    written: Counter[tuple[int, date]] = Counter()
    counted: dict[int, tuple[tuple[int, date], datetime]] = {}

    def write(batch: RollupBatch) -> None:
        assert all(amount > 0 for amount in batch.increments.values())
        written.update(batch.increments)
        written.subtract(batch.decrements)
        assert all(n >= 0 for n in written.values()), "a decrement before its increment"

    for op in ops:
        if isinstance(op, Observe):
            at = later(op.offset)
            facts = msg(message_id=op.message_id, author=op.author, at=at, content=op.content)
            if c.observe(facts).counted:
                key = (op.author, at.astimezone(_BERLIN).date())
                expected[key] += 1
                counted[op.message_id] = (key, at)
        elif isinstance(op, Delete):
            entry = counted.get(op.message_id)
            when = (entry[1] if entry else T0) + timedelta(seconds=op.delay)
            if c.deleted(op.message_id, deleted_at=when):
                assert entry is not None
                expected[entry[0]] -= 1
                del counted[op.message_id]
        else:
            write(c.drain())
    write(c.drain())
    assert +written == +expected
    assert c.pending == 0
    assert c.pending_decrements == 0


# --------------------------------------------------------------------------- continue_from


@settings(max_examples=300, deadline=None)
@given(
    posts=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 40_000), st.sampled_from(_CONTENTS)),
        max_size=60,
    ),
    split=st.integers(0, 40_000),
    cooldown=st.sampled_from([0, 30, 60]),
)
def test_a_count_split_at_any_moment_and_continued_equals_one_uninterrupted_count(
    posts: list[tuple[int, int, str]], split: int, cooldown: int
) -> None:
    """A history catch-up counts the posts before a moment; the live counter continues from
    it (its cooldowns, the messages it saw) and counts the rest: together, exactly what one
    counter that never stopped counts, whatever the moment."""
    rules = ActivityRules(cooldown_seconds=cooldown, timezone=_BERLIN)
    ordered = [
        msg(message_id=n + 1, author=ALICE + author, at=later(offset), content=content)
        for n, (author, offset, content) in enumerate(sorted(posts, key=lambda p: p[1]))
    ]
    whole = ActivityCounter(rules)
    for facts in ordered:
        whole.observe(facts)
    before, after = ActivityCounter(rules), ActivityCounter(rules)
    for facts in ordered:
        if facts.created_at < later(split):
            before.observe(facts)
    after.continue_from(before)
    for facts in ordered:
        if facts.created_at >= later(split):
            after.observe(facts)
    together = Counter(before.drain().increments) + Counter(after.drain().increments)
    assert together == Counter(whole.drain().increments)


def test_continuing_skips_a_message_the_earlier_count_saw():
    earlier, live = counter(), counter()
    assert earlier.observe(msg(message_id=7)).counted
    live.continue_from(earlier)
    assert live.observe(msg(message_id=7)).reason == "already seen"
