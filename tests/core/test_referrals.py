"""Referrals: attributing a join to an invite, and deciding when the inviter earns credit."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.referrals import (
    Attribution,
    InviteState,
    ReferralCase,
    ReferralDecision,
    ReferralRules,
    attribute_join,
    referral_decision,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL = 11, 12, 13


def invites(*states: InviteState) -> dict[str, InviteState]:
    return {s.code: s for s in states}


OPEN = InviteState("open", ALICE, uses=4, max_uses=0)
LIMITED = InviteState("limited", BOB, uses=2, max_uses=3)  # one more use deletes it
TIMED = InviteState("timed", CAROL, uses=2, max_uses=3, expires_at=NOW + timedelta(hours=1))
BEFORE = invites(OPEN, LIMITED, TIMED)


def bump(state: InviteState, by: int = 1) -> InviteState:
    return replace(state, uses=state.uses + by)


# --- attribute_join -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(
            invites(bump(OPEN), LIMITED, TIMED),
            Attribution("invite", code="open", inviter_id=ALICE),
            id="one invite rose by one",
        ),
        pytest.param(
            invites(OPEN, TIMED),
            Attribution("invite", code="limited", inviter_id=BOB),
            id="vanished at max_uses",
        ),
        pytest.param(
            invites(OPEN, LIMITED),
            Attribution("invite", code="timed", inviter_id=CAROL),
            id="vanished at max_uses before its expiry",
        ),
        pytest.param(
            invites(bump(OPEN), bump(LIMITED), TIMED),
            Attribution("ambiguous", candidates=("limited", "open")),
            id="two invites rose at once",
        ),
        pytest.param(
            invites(bump(OPEN), TIMED),
            Attribution("ambiguous", candidates=("limited", "open")),
            id="one rose and one vanished at max_uses",
        ),
        pytest.param(
            invites(bump(OPEN, 2), LIMITED, TIMED),
            Attribution("ambiguous", candidates=("open",)),
            id="one invite rose by two",
        ),
        pytest.param(BEFORE, Attribution("unknown"), id="nothing changed"),
        pytest.param(
            invites(LIMITED, TIMED),
            Attribution("unknown"),
            id="unlimited invite deleted by a moderator",
        ),
        pytest.param(
            invites(OPEN, LIMITED, TIMED, InviteState("new", ALICE, uses=1, max_uses=0)),
            Attribution("invite", code="new", inviter_id=ALICE),
            id="invite created after the cache, used once",
        ),
        pytest.param(
            invites(OPEN, LIMITED, TIMED, InviteState("new", ALICE, uses=0, max_uses=0)),
            Attribution("unknown"),
            id="invite created after the cache, unused",
        ),
        pytest.param(
            invites(OPEN, LIMITED, TIMED, InviteState("new", ALICE, uses=3, max_uses=0)),
            Attribution("ambiguous", candidates=("new",)),
            id="invite created after the cache, used three times",
        ),
        pytest.param(
            invites(bump(OPEN), LIMITED, TIMED, InviteState("new", None, uses=1, max_uses=0)),
            Attribution("ambiguous", candidates=("new", "open")),
            id="old and new invite both used",
        ),
        pytest.param(
            invites(replace(OPEN, uses=3), LIMITED, TIMED),
            Attribution("unknown"),
            id="uses going down are ignored",
        ),
    ],
)
def test_attribute_join(after: dict[str, InviteState], expected: Attribution) -> None:
    assert attribute_join(BEFORE, after, now=NOW) == expected


@pytest.mark.parametrize(
    ("gone", "now", "expected"),
    [
        pytest.param(LIMITED, NOW, "invite", id="used up"),
        pytest.param(TIMED, NOW + timedelta(minutes=59), "invite", id="used up just before expiry"),
        pytest.param(TIMED, NOW + timedelta(hours=1), "unknown", id="expired exactly at now"),
        pytest.param(TIMED, NOW + timedelta(hours=2), "unknown", id="expired"),
        pytest.param(
            replace(LIMITED, uses=1), NOW, "unknown", id="deleted by a moderator, uses to spare"
        ),
        pytest.param(replace(LIMITED, max_uses=0), NOW, "unknown", id="unlimited, deleted"),
    ],
)
def test_vanished_invites(gone: InviteState, now: datetime, expected: str) -> None:
    before = invites(OPEN, gone)
    assert attribute_join(before, invites(OPEN), now=now).kind == expected


def test_vanished_invite_reports_its_inviter() -> None:
    result = attribute_join(invites(LIMITED), {}, now=NOW)
    assert result == Attribution("invite", code="limited", inviter_id=BOB)


def test_invite_without_inviter_is_still_an_invite() -> None:
    widget = InviteState("widget", None, uses=0, max_uses=0)
    result = attribute_join(invites(widget), invites(bump(widget)), now=NOW)
    assert result == Attribution("invite", code="widget", inviter_id=None)


@pytest.mark.parametrize(
    ("invite_rose", "vanity_before", "vanity_after", "expected"),
    [
        (False, 10, 11, Attribution("vanity")),
        (False, 10, 13, Attribution("vanity")),
        (False, 10, 10, Attribution("unknown")),
        (False, None, 11, Attribution("unknown")),
        (False, 10, None, Attribution("unknown")),
        (False, 10, 9, Attribution("unknown")),
        (True, 10, 10, Attribution("invite", code="open", inviter_id=ALICE)),
        (True, None, None, Attribution("invite", code="open", inviter_id=ALICE)),
        # Vanity and an invite both rose: two joins raced, so it could be either.
        (True, 10, 11, Attribution("ambiguous", candidates=("open",))),
    ],
)
def test_vanity(
    invite_rose: bool, vanity_before: int | None, vanity_after: int | None, expected: Attribution
) -> None:
    after = invites(bump(OPEN) if invite_rose else OPEN, LIMITED, TIMED)
    result = attribute_join(
        BEFORE, after, vanity_before=vanity_before, vanity_after=vanity_after, now=NOW
    )
    assert result == expected


CODES = ["a", "b", "c", "d"]


@st.composite
def invite_snapshots(draw: st.DrawFn) -> tuple[dict[str, InviteState], dict[str, InviteState]]:
    before: dict[str, InviteState] = {}
    after: dict[str, InviteState] = {}
    for code in CODES:
        max_uses = draw(st.integers(0, 5))
        uses = draw(st.integers(0, max(max_uses - 1, 0) if max_uses else 5))
        expires = draw(st.sampled_from([None, NOW - timedelta(hours=1), NOW + timedelta(hours=1)]))
        state = InviteState(code, draw(st.integers(1, 3)), uses, max_uses, expires)
        fate = draw(st.sampled_from(["absent", "same", "used", "gone", "new"]))
        if fate != "new":
            if fate == "absent":
                continue
            before[code] = state
        if fate == "used":
            after[code] = bump(state, draw(st.integers(1, 3)))
        elif fate == "new":
            after[code] = replace(state, uses=draw(st.integers(0, 3)))
        elif fate == "same":
            after[code] = state
    return before, after


def _uses_added(before: dict[str, InviteState], after: dict[str, InviteState]) -> int:
    """Uses added in total, counting an unexpired invite gone at max_uses as one."""
    added = 0
    for code, state in after.items():
        old = before.get(code)
        added += max(state.uses - (old.uses if old else 0), 0)
    for code, old in before.items():
        gone_used_up = old.max_uses > 0 and old.uses == old.max_uses - 1
        if code not in after and gone_used_up and (old.expires_at is None or old.expires_at > NOW):
            added += 1
    return added


@given(
    invite_snapshots(),
    st.one_of(st.none(), st.integers(0, 5)),
    st.one_of(st.none(), st.integers(0, 5)),
)
def test_never_invite_when_more_than_one_use_was_added(
    snapshots: tuple[dict[str, InviteState], dict[str, InviteState]],
    vanity_before: int | None,
    vanity_after: int | None,
) -> None:
    before, after = snapshots
    result = attribute_join(
        before, after, vanity_before=vanity_before, vanity_after=vanity_after, now=NOW
    )
    vanity_added = (
        max(vanity_after - vanity_before, 0)
        if vanity_before is not None and vanity_after is not None
        else 0
    )
    total = _uses_added(before, after) + vanity_added
    if total != 1:
        assert result.kind != "invite"
    if result.kind == "invite":
        assert result.code is not None
        assert result.candidates == ()
    if result.kind == "ambiguous":
        assert len(result.candidates) >= 1
        assert list(result.candidates) == sorted(set(result.candidates))
    if _uses_added(before, after) == 0:
        assert result.kind in ("vanity", "unknown")


# --- referral_decision --------------------------------------------------------------------------

RULES = ReferralRules()
JOINED = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
GOOD = ReferralCase(
    inviter_id=ALICE,
    invitee_id=BOB,
    joined_at=JOINED,
    still_member=True,
    active_days=3,
    is_rejoin=False,
    invitee_is_bot=False,
    now=JOINED + timedelta(days=8),
)


def decide(case: ReferralCase, rules: ReferralRules = RULES) -> str:
    return referral_decision(case, rules).outcome


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "credit"),
        ({"inviter_id": None}, "reject"),
        ({"inviter_id": BOB}, "reject"),
        ({"is_rejoin": True}, "reject"),
        ({"invitee_is_bot": True}, "reject"),
        ({"still_member": False, "now": JOINED + timedelta(days=2)}, "reject"),
        ({"still_member": False}, "reject"),
        ({"now": JOINED + timedelta(days=2)}, "wait"),
        ({"active_days": 0}, "wait"),
        ({"active_days": 0, "now": JOINED + timedelta(days=31)}, "reject"),
    ],
)
def test_referral_rules(changes: dict[str, object], expected: str) -> None:
    assert decide(replace(GOOD, **changes)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # min_days is reached at exactly 7 × 24 hours after joining.
        ({"now": JOINED + timedelta(days=7) - timedelta(seconds=1)}, "wait"),
        ({"now": JOINED + timedelta(days=7)}, "credit"),
        (
            {"still_member": False, "now": JOINED + timedelta(days=7) - timedelta(seconds=1)},
            "reject",
        ),
        # The activity grace ends at exactly 30 days.
        ({"active_days": 0, "now": JOINED + timedelta(days=30) - timedelta(seconds=1)}, "wait"),
        ({"active_days": 0, "now": JOINED + timedelta(days=30)}, "reject"),
        # Activity that arrives late in the grace still earns credit.
        ({"active_days": 1, "now": JOINED + timedelta(days=29)}, "credit"),
        ({"active_days": 1, "now": JOINED + timedelta(days=90)}, "credit"),
        # A clock slightly behind the join time just waits.
        ({"now": JOINED - timedelta(seconds=5)}, "wait"),
    ],
)
def test_referral_boundaries(changes: dict[str, object], expected: str) -> None:
    assert decide(replace(GOOD, **changes)) == expected  # type: ignore[arg-type]


def test_min_active_days_is_configurable() -> None:
    rules = ReferralRules(min_days=3, min_active_days=2, grace_days=10)
    case = replace(GOOD, active_days=1, now=JOINED + timedelta(days=4))
    assert decide(case, rules) == "wait"
    assert decide(replace(case, active_days=2), rules) == "credit"
    assert decide(replace(case, now=JOINED + timedelta(days=10)), rules) == "reject"


def test_zero_activity_requirement_credits_on_min_days() -> None:
    rules = ReferralRules(min_active_days=0)
    assert decide(replace(GOOD, active_days=0), rules) == "credit"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, "the member stayed and took part"),
        ({"inviter_id": None}, "no inviter is known for this join"),
        ({"inviter_id": BOB}, "members can't refer themselves"),
        ({"is_rejoin": True}, "the member had been in the server before"),
        ({"invitee_is_bot": True}, "the new member is a bot"),
        (
            {"still_member": False, "now": JOINED + timedelta(days=2)},
            "the member left within 7 days of joining",
        ),
        ({"still_member": False}, "the member left before becoming active"),
        ({"now": JOINED + timedelta(days=2)}, "the member has not been here 7 days yet"),
        ({"active_days": 0}, "the member has not been active enough yet (0 of 1 active days)"),
        (
            {"active_days": 0, "now": JOINED + timedelta(days=31)},
            "the member never became active within 30 days",
        ),
    ],
)
def test_referral_reasons(changes: dict[str, object], reason: str) -> None:
    decision = referral_decision(replace(GOOD, **changes), RULES)  # type: ignore[arg-type]
    assert isinstance(decision, ReferralDecision)
    assert decision.reason == reason


def test_reject_reasons_follow_the_documented_order() -> None:
    case = replace(
        GOOD,
        inviter_id=BOB,
        is_rejoin=True,
        invitee_is_bot=True,
        still_member=False,
        now=JOINED + timedelta(days=1),
    )
    reasons = []
    for fix in (
        {"inviter_id": None},
        {"inviter_id": ALICE},
        {"is_rejoin": False},
        {"invitee_is_bot": False},
    ):
        reasons.append(referral_decision(case, RULES).reason)
        case = replace(case, **fix)
    reasons.append(referral_decision(case, RULES).reason)
    assert reasons == [
        "members can't refer themselves",
        "no inviter is known for this join",
        "the member had been in the server before",
        "the new member is a bot",
        "the member left within 7 days of joining",
    ]


@pytest.mark.parametrize(
    "kwargs",
    [{"min_days": -1}, {"min_active_days": -1}, {"min_days": 10, "grace_days": 9}],
)
def test_referral_rules_reject_nonsense(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="ReferralRules"):
        ReferralRules(**kwargs)
