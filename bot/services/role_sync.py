"""Tier roles follow ``tier_states``: work out the edits, then make them slowly and surely.

The ladder decides tiers in the database; Discord roles are a projection of that. This module
says which tier roles a member should wear (all tiers up to theirs when roles stack, otherwise
only their own) and runs the one queue through which every role edit goes, paced so a sweep
that promotes hundreds never bursts into Discord's rate limits.

A refused edit (403: the bot's role sits below the tier role, or lacks Manage Roles) is not
lost: the database still says what the member should have, so the next sweep or ``/tier sync``
tries again. Moderators hear about it once per role until an edit of that role succeeds.

No discord import: the ladder automation hands in ``edit`` (one role, one member) and
``resolve`` (the plan for a member right now, read from the live guild).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bot.config import Settings
from bot.services.effects import EditOutcome

log = logging.getLogger(__name__)

#: Role edits per second: Discord allows more in bursts, but a steady trickle never hits 429s
#: and leaves room for everything else the bot does.
ROLE_EDITS_PER_SECOND = 5.0


@dataclass(frozen=True)
class RoleChangePlan:
    user_id: int
    add: frozenset[int]
    remove: frozenset[int]

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove


def desired_roles(tier_key: str | None, settings: Settings) -> frozenset[int]:
    """The tier roles a member on ``tier_key`` wears (stacked: every tier up to theirs)."""
    if tier_key is None or tier_key not in settings.tier_keys:
        return frozenset()
    index = settings.tier_index(tier_key)
    if settings.ladder.stack_roles:
        return frozenset(tier.role_id for tier in settings.tiers[: index + 1])
    return frozenset({settings.tiers[index].role_id})


def plan_roles(
    user_id: int, tier_key: str | None, actual: Iterable[int], settings: Settings
) -> RoleChangePlan:
    """Edits that bring the member's tier roles in line; other roles are never touched."""
    held = frozenset(actual) & settings.managed_role_ids
    wanted = desired_roles(tier_key, settings)
    return RoleChangePlan(user_id, add=wanted - held, remove=held - wanted)


Edit = Callable[[int, int, bool], Awaitable[EditOutcome]]
"""``edit(user_id, role_id, add)``: one role edit on Discord."""
Resolve = Callable[[int], Awaitable[RoleChangePlan | None]]
"""The member's plan now (None: nothing to do, e.g. they left or the ladder ignores them)."""
Alert = Callable[[int], Awaitable[None]]
"""Tell moderators that edits of this role are refused."""


class RoleSyncQueue:
    """One worker applying members' role plans in order, each member at most once in the queue.

    A member is resolved when their turn comes, not when queued, so a member promoted twice in
    a row gets one edit, and a member who left is skipped.
    """

    def __init__(
        self,
        *,
        edit: Edit,
        resolve: Resolve,
        alert: Alert,
        per_second: float = ROLE_EDITS_PER_SECOND,
    ) -> None:
        self._edit = edit
        self._resolve = resolve
        self._alert = alert
        self._interval = 1.0 / per_second
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queued: set[int] = set()
        self._worker: asyncio.Task[None] | None = None
        #: Roles Discord refused in this pass: not tried again until ``retry_refused``.
        self._refused: set[int] = set()
        #: Roles moderators were told about; cleared when an edit of the role succeeds.
        self._alerted: set[int] = set()
        #: Members left waiting for a refused role, per role.
        self.pending: dict[int, set[int]] = {}

    def start(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="flywheel-role-sync")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    def enqueue(self, user_ids: Iterable[int]) -> int:
        """Queue members for reconciliation; returns how many were newly queued."""
        added = 0
        for user_id in user_ids:
            if user_id not in self._queued:
                self._queued.add(user_id)
                self._queue.put_nowait(user_id)
                added += 1
        return added

    def retry_refused(self) -> None:
        """Try refused roles again (the next sweep, /tier sync: a moderator may have fixed it)."""
        self._refused.clear()

    @property
    def alerted(self) -> frozenset[int]:
        return frozenset(self._alerted)

    async def drained(self) -> None:
        """Wait until every queued member has been handled."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            user_id = await self._queue.get()
            self._queued.discard(user_id)
            try:
                await self._reconcile(user_id)
            except Exception:
                log.exception("role sync: reconciling member %s failed", user_id)
            finally:
                self._queue.task_done()

    async def _reconcile(self, user_id: int) -> None:
        plan = await self._resolve(user_id)
        if plan is None or plan.empty:
            return
        # The new role first, then the old ones: a member is never left without their tier's
        # role (and channels) in between, and keeps the old one while the new one is refused.
        edits = [(role, True) for role in sorted(plan.add)]
        edits += [(role, False) for role in sorted(plan.remove)]
        for role_id, add in edits:
            if role_id in self._refused:
                self.pending.setdefault(role_id, set()).add(user_id)
                if add:
                    return
                continue
            outcome = await self._edit(user_id, role_id, add)
            if outcome == "done":
                self._succeeded(role_id, user_id)
            elif outcome == "forbidden":
                await self._forbidden(role_id, user_id)
            await asyncio.sleep(self._interval)
            if outcome == "gone" or (add and outcome != "done"):
                return

    def _succeeded(self, role_id: int, user_id: int) -> None:
        waiting = self.pending.get(role_id)
        if waiting is not None:
            waiting.discard(user_id)
            if not waiting:
                del self.pending[role_id]
        if role_id in self._alerted:
            log.info("role sync: edits of role %s work again", role_id)
            self._alerted.discard(role_id)

    async def _forbidden(self, role_id: int, user_id: int) -> None:
        self._refused.add(role_id)
        self.pending.setdefault(role_id, set()).add(user_id)
        if role_id in self._alerted:
            return
        self._alerted.add(role_id)
        try:
            await self._alert(role_id)
        except Exception:
            log.exception("role sync: could not alert moderators about role %s", role_id)
