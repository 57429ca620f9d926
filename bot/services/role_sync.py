"""Tier roles follow ``tier_states``: work out the edits, then make them slowly and surely.

The ladder decides tiers in the database; Discord roles are a projection of that. This module
says which tier roles a member should wear (all tiers up to theirs when roles stack, otherwise
only their own) and runs the one queue through which every role edit goes, paced so a sweep
that promotes hundreds never bursts into Discord's rate limits.

A refused edit (403: the bot's role sits below the tier role, or lacks Manage Roles) is not
lost: the database still says what the member should have, so the next sweep or ``/tier sync``
tries again. Moderators hear about it once per role until an edit of that role succeeds.

An edit that fails for a passing reason (a 5xx, or a 429 that outlasted discord.py's retries)
is retried with backoff until it goes through, the member leaves or their tier changes; after a
few failed tries moderators get one alert naming everyone still waiting. Nothing of this queue
needs storing: ``tier_states`` is the persisted truth, and every start-up reconciles the live
roles against it, so a restart picks up whatever was still pending.

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
from bot.services.retry import RetryPolicy

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
Stuck = Callable[[frozenset[int]], Awaitable[None]]
"""Tell moderators which members' role changes keep failing (being retried)."""

#: Failed edits are retried for as long as they fail; the alert comes after ``attempts`` tries.
FAILED_EDIT_RETRY = RetryPolicy(attempts=3, first_wait=5.0, max_wait=300.0)


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
        stuck: Stuck,
        per_second: float = ROLE_EDITS_PER_SECOND,
        retry: RetryPolicy = FAILED_EDIT_RETRY,
    ) -> None:
        self._edit = edit
        self._resolve = resolve
        self._alert = alert
        self._stuck = stuck
        self.retry = retry
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
        #: Members whose last edit failed (not refused), with how many times in a row.
        self.failures: dict[int, int] = {}
        #: Members moderators were told about; the alert comes again only after all got through.
        self._reported_stuck: set[int] = set()
        self._retries: dict[int, asyncio.TimerHandle] = {}

    def start(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="flywheel-role-sync")

    async def stop(self) -> None:
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
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
                # Never dropped: an unexpected error is retried like a failed edit.
                log.exception("role sync: reconciling member %s failed", user_id)
                await self._failed(user_id)
            finally:
                self._queue.task_done()

    @property
    def waiting(self) -> int:
        """Members with a role change still to make: queued, waiting for a retry, or waiting
        for a role Discord refused (``flywheel_pending_role_changes``, ``/healthz``)."""
        refused = {user for users in self.pending.values() for user in users}
        return len(self._queued | set(self._retries) | refused)

    @property
    def retrying(self) -> frozenset[int]:
        """Members waiting for a retry of a failed edit."""
        return frozenset(self._retries)

    async def _reconcile(self, user_id: int) -> None:
        plan = await self._resolve(user_id)
        if plan is None or plan.empty:
            self._got_through(user_id)
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
            elif outcome == "failed":
                await self._failed(user_id)
                return
            await asyncio.sleep(self._interval)
            if outcome == "gone" or (add and outcome != "done"):
                return
        self._got_through(user_id)

    async def _failed(self, user_id: int) -> None:
        """Try the member again later, waiting longer each time; alert once after a few tries."""
        failures = self.failures.get(user_id, 0) + 1
        self.failures[user_id] = failures
        wait = min(self.retry.first_wait * 2 ** (failures - 1), self.retry.max_wait)
        log.warning(
            "role sync: edit for member %s failed %d time(s); retrying in %.0f s",
            user_id,
            failures,
            wait,
        )
        loop = asyncio.get_running_loop()
        old = self._retries.pop(user_id, None)
        if old is not None:
            old.cancel()
        self._retries[user_id] = loop.call_later(wait, self._retry_now, user_id)
        if failures >= self.retry.attempts and not self._reported_stuck:
            # One alert per episode, naming everyone whose edits are failing right now.
            waiting = frozenset(self.failures)
            self._reported_stuck = set(waiting)
            try:
                await self._stuck(waiting)
            except Exception:
                log.exception("role sync: could not alert moderators about failing edits")

    def _retry_now(self, user_id: int) -> None:
        self._retries.pop(user_id, None)
        self.enqueue([user_id])

    def _got_through(self, user_id: int) -> None:
        """The member's roles are right (or nothing is left to do): forget their failures."""
        if self.failures.pop(user_id, None) is not None:
            handle = self._retries.pop(user_id, None)
            if handle is not None:
                handle.cancel()
            self._reported_stuck.discard(user_id)

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
