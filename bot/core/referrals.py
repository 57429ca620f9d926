"""Referrals: who invited the member who just joined, and when does the inviter get credit?

Discord does not say which invite a member used. The bot caches every invite's use count and,
on each join, fetches them again: the invite whose count rose is the one used. When that is not
clear-cut (two joins raced, a count jumped by more than one) we report the candidates and credit
nobody — a wrong credit is worse than a missed one. Credit itself waits until the newcomer has
stayed and taken part, so that inviting throwaway accounts earns nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal


@dataclass(frozen=True)
class InviteState:
    code: str
    inviter_id: int | None
    uses: int
    #: 0 means unlimited.
    max_uses: int
    expires_at: datetime | None = None

    def used_up_by_one_more(self) -> bool:
        """One more use hits ``max_uses``, at which Discord deletes the invite."""
        return self.max_uses > 0 and self.uses == self.max_uses - 1

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class Attribution:
    kind: Literal["invite", "vanity", "unknown", "ambiguous"]
    code: str | None = None
    inviter_id: int | None = None
    #: For "ambiguous": the invite codes whose uses rose, sorted.
    candidates: tuple[str, ...] = ()


def attribute_join(
    before: Mapping[str, InviteState],
    after: Mapping[str, InviteState],
    *,
    vanity_before: int | None = None,
    vanity_after: int | None = None,
    now: datetime,
) -> Attribution:
    """Which invite the newest member used, judged from invite use counts before and after.

    An invite gone from ``after`` counts as used once if that use would have exhausted it
    (Discord deletes it then) and it had not expired by ``now``; otherwise a moderator deleted
    it or it expired, which says nothing about the join. An invite new in ``after`` counts with
    all its uses, since it was created after the cache was taken. Only one use in total, on one
    invite, gives "invite"; anything more is "ambiguous" (the vanity URL's uses count towards
    the total too).
    """
    rises = _rises(before, after, now)
    vanity_rise = _vanity_rise(vanity_before, vanity_after)
    if not rises:
        return Attribution("vanity") if vanity_rise > 0 else Attribution("unknown")
    if len(rises) == 1 and vanity_rise == 0:
        ((code, rise),) = rises.items()
        if rise == 1:
            state = after.get(code) or before[code]
            return Attribution("invite", code=code, inviter_id=state.inviter_id)
    return Attribution("ambiguous", candidates=tuple(sorted(rises)))


def _rises(
    before: Mapping[str, InviteState], after: Mapping[str, InviteState], now: datetime
) -> dict[str, int]:
    """Invite code → uses added since ``before``, for invites whose uses rose."""
    rises: dict[str, int] = {}
    for code, state in after.items():
        old = before.get(code)
        rise = state.uses - (old.uses if old is not None else 0)
        if rise > 0:
            rises[code] = rise
    for code, old in before.items():
        if code not in after and old.used_up_by_one_more() and not old.expired(now):
            rises[code] = 1
    return rises


def _vanity_rise(before: int | None, after: int | None) -> int:
    if before is None or after is None:
        return 0
    return max(after - before, 0)


@dataclass(frozen=True)
class ReferralRules:
    #: The newcomer must still be a member this many days after joining.
    min_days: int = 7
    #: ... and have been active (qualifying messages) on at least this many days.
    min_active_days: int = 1
    #: How long after joining a quiet newcomer may still become active before we give up.
    grace_days: int = 30

    def __post_init__(self) -> None:
        if self.min_days < 0 or self.min_active_days < 0:
            raise ValueError("ReferralRules.min_days and min_active_days must not be negative")
        if self.grace_days < self.min_days:
            raise ValueError("ReferralRules.grace_days must be at least min_days")


@dataclass(frozen=True)
class ReferralCase:
    inviter_id: int | None
    invitee_id: int
    joined_at: datetime
    still_member: bool
    active_days: int
    is_rejoin: bool
    invitee_is_bot: bool
    now: datetime


@dataclass(frozen=True)
class ReferralDecision:
    outcome: Literal["credit", "wait", "reject"]
    #: Plain words for the mod log and the inviter's history.
    reason: str


def referral_decision(case: ReferralCase, rules: ReferralRules) -> ReferralDecision:
    """Credit, keep waiting, or reject a pending referral, as of ``case.now``.

    Re-evaluated on a schedule until it is no longer "wait". A member who has left is rejected
    whenever they left, so evaluate on leave too if a late qualifier should still count.
    """
    if case.inviter_id is None:
        return _reject("no inviter is known for this join")
    if case.inviter_id == case.invitee_id:
        return _reject("members can't refer themselves")
    if case.is_rejoin:
        return _reject("the member had been in the server before")
    if case.invitee_is_bot:
        return _reject("the new member is a bot")
    stayed = case.now - case.joined_at
    if not case.still_member:
        if stayed < timedelta(days=rules.min_days):
            return _reject(f"the member left within {_days(rules.min_days)} of joining")
        return _reject("the member left before becoming active")
    if stayed < timedelta(days=rules.min_days):
        return ReferralDecision("wait", f"the member has not been here {_days(rules.min_days)} yet")
    if case.active_days < rules.min_active_days:
        if stayed < timedelta(days=rules.grace_days):
            return ReferralDecision(
                "wait",
                "the member has not been active enough yet "
                f"({case.active_days} of {rules.min_active_days} active days)",
            )
        return _reject(f"the member never became active within {_days(rules.grace_days)}")
    return ReferralDecision("credit", "the member stayed and took part")


def _reject(reason: str) -> ReferralDecision:
    return ReferralDecision("reject", reason)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"
