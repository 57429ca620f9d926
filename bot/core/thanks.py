"""``/thanks``: may this member thank that one now?

Thanks are cheap to give, so they are cheap to farm. The rules here keep them meaningful: no
self-thanks or bots, one thanks per pair per local day, a daily cap per giver, and the receiver
must have posted in the channel recently — you thank someone for help you just saw, not a friend
on request. Pure: the cog gathers the counts and timestamps, this module decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.member_text import clean_line

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ThanksRules:
    #: Thanks from one giver to one receiver per (local) day.
    per_pair_per_day: int = 1
    #: Thanks one giver may give per (local) day in total.
    daily_cap: int = 5
    #: The receiver must have posted in the channel (or its thread/forum parent) this recently.
    recent_post_hours: int = 72
    reason_max_length: int = 200

    def __post_init__(self) -> None:
        for name in ("per_pair_per_day", "daily_cap", "recent_post_hours", "reason_max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"ThanksRules.{name} must be at least 1")


@dataclass(frozen=True)
class ThanksRequest:
    giver_id: int
    receiver_id: int
    receiver_is_bot: bool
    receiver_in_guild: bool
    reason: str | None
    now: datetime
    #: Thanks the giver already gave today (any receiver).
    given_today_by_giver: int
    #: Thanks the giver already gave this receiver today.
    given_today_to_receiver: int
    #: The receiver's latest message in this channel; None if never seen there.
    receiver_last_post_here: datetime | None


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused; ``message`` is shown to the member as-is."""

    code: str
    message: str


def check_thanks(request: ThanksRequest, rules: ThanksRules) -> Refusal | None:
    """The first rule the request breaks, or None if the thanks may be given.

    Identity problems come first (they can never succeed), then the reason (fixable right away),
    then the limits (fixable tomorrow), then recency (fixable elsewhere).
    """
    if request.giver_id == request.receiver_id:
        return Refusal("self", "You can't thank yourself — but thank you for being here!")
    if request.receiver_is_bot:
        return Refusal("bot", "Bots don't collect thanks — thank a person who helped you instead.")
    if not request.receiver_in_guild:
        return Refusal(
            "not_member", "That person isn't a member of this server, so they can't get thanks."
        )
    reason = clean_reason(request.reason)
    if reason is not None and len(reason) > rules.reason_max_length:
        return Refusal(
            "reason_too_long",
            f"That reason is a bit long ({len(reason)} characters). "
            f"Please keep it to {rules.reason_max_length} characters or fewer.",
        )
    if request.given_today_to_receiver >= rules.per_pair_per_day:
        return Refusal("pair_limit", _pair_limit_message(rules.per_pair_per_day))
    if request.given_today_by_giver >= rules.daily_cap:
        return Refusal("daily_cap", _daily_cap_message(rules.daily_cap))
    if not _posted_recently(request, rules):
        return Refusal(
            "not_recent",
            "Thanks go to someone who helped you here: this member hasn't posted in this "
            f"channel in the last {_hours(rules.recent_post_hours)}.",
        )
    return None


def clean_reason(reason: str | None) -> str | None:
    """Normalised (:func:`bot.core.member_text.clean_line`); None if nothing visible is left.

    Mentions are left alone: the bot neutralises them with ``allowed_mentions`` when it sends.
    """
    if reason is None:
        return None
    return clean_line(reason) or None


def thanks_day(now: datetime, tz: ZoneInfo) -> date:
    """The community's local day for ``now``: the per-day limits reset at local midnight."""
    if now.tzinfo is None:
        raise ValueError("thanks_day needs a timezone-aware datetime")
    return now.astimezone(tz).date()


def _posted_recently(request: ThanksRequest, rules: ThanksRules) -> bool:
    last = request.receiver_last_post_here
    if last is None:
        return False
    # A post "in the future" (clock skew between Discord and us) is as recent as it gets.
    return request.now - last <= timedelta(hours=rules.recent_post_hours)


def _pair_limit_message(limit: int) -> str:
    if limit == 1:
        return "You've already thanked this member today; you can thank them again tomorrow."
    return (
        f"You've already thanked this member {limit} times today, the most for one person. "
        "You can thank them again tomorrow."
    )


def _daily_cap_message(cap: int) -> str:
    if cap == 1:
        return "You've already given your thanks for today, the daily limit. Thanks again tomorrow!"
    return f"You've given {cap} thanks today, the daily limit. Thanks again tomorrow!"


def _hours(hours: int) -> str:
    return "hour" if hours == 1 else f"{hours} hours"
