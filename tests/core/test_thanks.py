"""Thanks rules: every refusal, their order, the boundaries, and the local day."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.thanks import (
    Refusal,
    ThanksRequest,
    ThanksRules,
    check_thanks,
    clean_reason,
    thanks_day,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
RULES = ThanksRules()
OK = ThanksRequest(
    giver_id=1,
    receiver_id=2,
    receiver_is_bot=False,
    receiver_in_guild=True,
    reason="fixed my config",
    now=NOW,
    given_today_by_giver=0,
    given_today_to_receiver=0,
    receiver_last_post_here=NOW - timedelta(minutes=5),
)


def code(request: ThanksRequest, rules: ThanksRules = RULES) -> str | None:
    refusal = check_thanks(request, rules)
    return None if refusal is None else refusal.code


def test_a_fair_thanks_passes() -> None:
    assert check_thanks(OK, RULES) is None


def test_refusal_carries_code_and_message() -> None:
    refusal = check_thanks(replace(OK, receiver_is_bot=True), RULES)
    assert isinstance(refusal, Refusal)
    assert (refusal.code, refusal.message) == (
        "bot",
        "Bots don't collect thanks — thank a person who helped you instead.",
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"receiver_id": 1}, "self"),
        ({"receiver_is_bot": True}, "bot"),
        ({"receiver_in_guild": False}, "not_member"),
        ({"reason": "x" * 201}, "reason_too_long"),
        ({"given_today_to_receiver": 1}, "pair_limit"),
        ({"given_today_by_giver": 5}, "daily_cap"),
        ({"given_today_by_giver": 9}, "daily_cap"),
        ({"receiver_last_post_here": None}, "not_recent"),
        ({"receiver_last_post_here": NOW - timedelta(days=4)}, "not_recent"),
    ],
)
def test_each_rule_refuses(changes: dict[str, object], expected: str) -> None:
    assert code(replace(OK, **changes)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"reason": "x" * 200}, None),
        ({"reason": "x" * 201}, "reason_too_long"),
        ({"given_today_by_giver": 4}, None),
        ({"given_today_by_giver": 5}, "daily_cap"),
        ({"given_today_to_receiver": 0}, None),
        ({"given_today_to_receiver": 1}, "pair_limit"),
        ({"receiver_last_post_here": NOW - timedelta(hours=72)}, None),
        ({"receiver_last_post_here": NOW - timedelta(hours=72, seconds=1)}, "not_recent"),
        # Clock skew: a post stamped slightly after "now" is recent, not refused.
        ({"receiver_last_post_here": NOW + timedelta(seconds=3)}, None),
    ],
)
def test_boundaries(changes: dict[str, object], expected: str | None) -> None:
    assert code(replace(OK, **changes)) == expected  # type: ignore[arg-type]


def test_reason_length_is_measured_after_cleaning() -> None:
    padded = "   " + "x" * 200 + "  \n "
    assert code(replace(OK, reason=padded)) is None
    assert code(replace(OK, reason="a" + " " * 300 + "b")) is None


def test_order_of_checks() -> None:
    everything_wrong = replace(
        OK,
        receiver_id=OK.giver_id,
        receiver_is_bot=True,
        receiver_in_guild=False,
        reason="x" * 500,
        given_today_by_giver=99,
        given_today_to_receiver=99,
        receiver_last_post_here=None,
    )
    order = ["self", "bot", "not_member", "reason_too_long", "pair_limit", "daily_cap"]
    fixes: list[dict[str, object]] = [
        {"receiver_id": OK.receiver_id},
        {"receiver_is_bot": False},
        {"receiver_in_guild": True},
        {"reason": None},
        {"given_today_to_receiver": 0},
        {"given_today_by_giver": 0},
    ]
    request = everything_wrong
    for expected, fix in zip(order, fixes, strict=True):
        assert code(request) == expected
        request = replace(request, **fix)  # type: ignore[arg-type]
    assert code(request) == "not_recent"


def test_custom_limits() -> None:
    rules = ThanksRules(per_pair_per_day=2, daily_cap=3, recent_post_hours=1, reason_max_length=10)
    base = replace(OK, reason="x" * 10)
    assert code(base, rules) is None
    assert code(replace(base, given_today_to_receiver=1), rules) is None
    assert code(replace(base, given_today_to_receiver=2), rules) == "pair_limit"
    assert code(replace(base, given_today_by_giver=3), rules) == "daily_cap"
    assert code(replace(base, receiver_last_post_here=NOW - timedelta(minutes=61)), rules) == (
        "not_recent"
    )
    assert code(replace(base, reason="x" * 11), rules) == "reason_too_long"


@pytest.mark.parametrize(
    ("rules", "changes", "message"),
    [
        (RULES, {"receiver_id": 1}, "You can't thank yourself — but thank you for being here!"),
        (
            RULES,
            {"given_today_to_receiver": 1},
            "You've already thanked this member today; you can thank them again tomorrow.",
        ),
        (
            RULES,
            {"given_today_by_giver": 5},
            "You've given 5 thanks today, the daily limit. Thanks again tomorrow!",
        ),
        (
            RULES,
            {"receiver_last_post_here": None},
            "Thanks go to someone who helped you here: this member hasn't posted in this "
            "channel in the last 72 hours.",
        ),
        (
            ThanksRules(recent_post_hours=1),
            {"receiver_last_post_here": None},
            "Thanks go to someone who helped you here: this member hasn't posted in this "
            "channel in the last hour.",
        ),
        (
            ThanksRules(per_pair_per_day=2),
            {"given_today_to_receiver": 2},
            "You've already thanked this member 2 times today, the most for one person. "
            "You can thank them again tomorrow.",
        ),
        (
            ThanksRules(daily_cap=1),
            {"given_today_by_giver": 1},
            "You've already given your thanks for today, the daily limit. Thanks again tomorrow!",
        ),
        (
            RULES,
            {"receiver_in_guild": False},
            "That person isn't a member of this server, so they can't get thanks.",
        ),
        (
            RULES,
            {"reason": "x" * 250},
            "That reason is a bit long (250 characters). "
            "Please keep it to 200 characters or fewer.",
        ),
    ],
)
def test_messages(rules: ThanksRules, changes: dict[str, object], message: str) -> None:
    refusal = check_thanks(replace(OK, **changes), rules)  # type: ignore[arg-type]
    assert refusal is not None
    assert refusal.message == message


def test_messages_are_member_facing() -> None:
    cases: list[dict[str, object]] = [
        {"receiver_id": 1},
        {"receiver_is_bot": True},
        {"receiver_in_guild": False},
        {"reason": "x" * 201},
        {"given_today_to_receiver": 5},
        {"given_today_by_giver": 5},
        {"receiver_last_post_here": None},
    ]
    rules_variants = [RULES, ThanksRules(per_pair_per_day=3, daily_cap=1)]
    for rules in rules_variants:
        for changes in cases:
            refusal = check_thanks(replace(OK, **changes), rules)  # type: ignore[arg-type]
            assert refusal is not None
            assert refusal.message[0].isupper()
            assert refusal.message.endswith((".", "!"))
            assert "_" not in refusal.message
            assert "None" not in refusal.message


@pytest.mark.parametrize("bad", ["per_pair_per_day", "daily_cap", "recent_post_hours"])
def test_rules_reject_nonsense(bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        ThanksRules(**{bad: 0})


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (None, None),
        ("", None),
        ("   \n\t ", None),
        ("thanks!", "thanks!"),
        ("  fixed   my\n\nbuild\t!  ", "fixed my build !"),
        ("thanks @everyone <@123>", "thanks @everyone <@123>"),
    ],
)
def test_clean_reason(raw: str | None, cleaned: str | None) -> None:
    assert clean_reason(raw) == cleaned


@given(st.text())
def test_clean_reason_is_idempotent_and_tidy(raw: str) -> None:
    cleaned = clean_reason(raw)
    assert clean_reason(cleaned) == cleaned
    if cleaned is not None:
        assert cleaned == cleaned.strip()
        assert "  " not in cleaned


BERLIN = ZoneInfo("Europe/Berlin")
AUCKLAND = ZoneInfo("Pacific/Auckland")


@pytest.mark.parametrize(
    ("now", "tz", "day"),
    [
        # Berlin is UTC+1 in winter: 22:59 UTC is still the 10th, 23:00 UTC is the 11th.
        (datetime(2025, 1, 10, 22, 59, 59, tzinfo=UTC), BERLIN, date(2025, 1, 10)),
        (datetime(2025, 1, 10, 23, 0, 0, tzinfo=UTC), BERLIN, date(2025, 1, 11)),
        # Summer time (UTC+2): local midnight is 22:00 UTC.
        (datetime(2025, 7, 10, 21, 59, 59, tzinfo=UTC), BERLIN, date(2025, 7, 10)),
        (datetime(2025, 7, 10, 22, 0, 0, tzinfo=UTC), BERLIN, date(2025, 7, 11)),
        # Auckland (UTC+13 in January) is already on the next day at UTC noon.
        (datetime(2025, 1, 10, 10, 59, tzinfo=UTC), AUCKLAND, date(2025, 1, 10)),
        (datetime(2025, 1, 10, 11, 0, tzinfo=UTC), AUCKLAND, date(2025, 1, 11)),
        # A non-UTC aware input is converted, not read naively.
        (datetime(2025, 1, 11, 0, 30, tzinfo=BERLIN), ZoneInfo("UTC"), date(2025, 1, 10)),
    ],
)
def test_thanks_day_uses_local_midnight(now: datetime, tz: ZoneInfo, day: date) -> None:
    assert thanks_day(now, tz) == day


def test_thanks_day_needs_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        thanks_day(datetime(2025, 1, 1, 12, 0), BERLIN)
