"""Beta programs and user research: who may join or volunteer, seats, reports, credits.

A program is joined within its criteria (the member's tier at least ``min_tier``, a seat left,
not after ``until``); a tester's report is decided by a moderator on a review card; closing the
program credits every tester with an accepted report (``beta_testing``) in the same transaction
that closes it, and the thank-you DMs are claimed one by one before they are sent. A research
call is volunteered for within its criteria (tier, a user group's region, a user group); staff
pick volunteers (each told once by DM) and credit those who took part (``user_research``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.core.member_text import name_key
from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.member_input import required
from db.models import BetaProgram, BetaReport, ResearchCall
from db.repositories.groups import GroupRepository
from db.repositories.programs import ProgramsRepository

NAME_MIN, NAME_MAX = 3, 100
REPORT_MIN, REPORT_MAX = 10, 1500
REASON_MIN, REASON_MAX = 3, 500
TITLE_MIN, TITLE_MAX = 5, 100
DETAILS_MIN, DETAILS_MAX = 10, 1000

NO_PROGRAM = "That beta program doesn't exist."
NO_CALL = "That research call doesn't exist."


@dataclass(frozen=True)
class Program:
    id: int
    name: str
    min_tier: str | None
    seats: int | None
    taken: int
    until: date | None
    status: str
    thread_id: int | None
    created_by: int
    #: The post with the Join button; None until it is made.
    message_id: int | None = None

    @classmethod
    def of(cls, row: BetaProgram) -> Program:
        return cls(
            row.id,
            row.name,
            row.min_tier,
            row.seats,
            row.taken,
            row.until,
            row.status,
            row.thread_id,
            row.created_by,
            row.message_id,
        )


@dataclass(frozen=True)
class Report:
    id: int
    program_id: int
    program_name: str
    user_id: int
    text: str
    status: str
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    reason: str | None
    channel_id: int | None
    message_id: int | None

    @classmethod
    def of(cls, row: BetaReport, program: str) -> Report:
        return cls(
            row.id,
            row.program_id,
            program,
            row.user_id,
            row.text,
            row.status,
            row.created_at,
            row.decided_by,
            row.decided_at,
            row.decision_reason,
            row.review_channel_id,
            row.review_message_id,
        )


@dataclass(frozen=True)
class ReportDecision:
    report: Report
    decided_now: bool


@dataclass(frozen=True)
class Closed:
    program: Program
    #: Testers credited with ``beta_testing`` by this close.
    credited: tuple[int, ...]
    points: int


@dataclass(frozen=True)
class Call:
    id: int
    title: str
    details: str
    min_tier: str | None
    region: str | None
    group_id: int | None
    seats: int | None
    picked: int
    created_by: int

    @classmethod
    def of(cls, row: ResearchCall) -> Call:
        return cls(
            row.id,
            row.title,
            row.details,
            row.min_tier,
            row.region,
            row.group_id,
            row.seats,
            row.picked,
            row.created_by,
        )


@dataclass(frozen=True)
class Volunteer:
    user_id: int
    volunteered_at: datetime
    picked: bool
    took_part: bool


class ProgramsService(Service):
    @property
    def enabled(self) -> bool:
        return self.settings.feedback.programs_channel is not None

    def is_product_staff(self, role_ids: list[int]) -> bool:
        product = self.settings.feedback.product_role
        return product is not None and product in role_ids

    # ------------------------------------------------------------------ tiers
    def tier_keys(self) -> list[str]:
        return [t.key for t in self.settings.tiers]

    def tier_name(self, key: str | None) -> str:
        for tier in self.settings.tiers:
            if tier.key == key:
                return tier.name
        return key or "no tier"

    def _rank(self, key: str | None) -> int:
        keys = self.tier_keys()
        return keys.index(key) if key in keys else -1

    def clean_tier(self, raw: str | None) -> str | None:
        if raw is None or not raw.strip():
            return None
        wanted = raw.strip().casefold()
        for tier in self.settings.tiers:
            if wanted in (tier.key.casefold(), tier.name.casefold()):
                return tier.key
        names = ", ".join(t.name for t in self.settings.tiers) or "none configured"
        raise UserFacingError(f"There is no tier called {raw!r} (tiers: {names}).")

    async def _tier_ok(self, repo: ProgramsRepository, user_id: int, min_tier: str | None) -> None:
        if min_tier is None:
            return
        held = await repo.tier_of(user_id)
        if self._rank(held) < self._rank(min_tier):
            raise UserFacingError(
                f"This is for {self.tier_name(min_tier)} members and above; you are "
                f"{self.tier_name(held) if held else 'not on the ladder yet'}."
            )

    # ------------------------------------------------------------------ programs
    async def create_program(
        self,
        *,
        name: str,
        min_tier: str | None,
        seats: int | None,
        until: date | None,
        created_by: int,
    ) -> Program:
        clean = required(name, what="program name", low=NAME_MIN, high=NAME_MAX, one_line=True)
        tier = self.clean_tier(min_tier)
        if seats is not None and seats < 1:
            raise UserFacingError("Seats must be at least 1 (leave it out for no limit).")
        if until is not None and until < self.today():
            raise UserFacingError("The closing date is in the past.")
        async with self.sessions() as session, session.begin():
            row = await ProgramsRepository(session, self.guild_id).create_program(
                name=clean,
                min_tier=tier,
                seats=seats,
                until=until,
                created_by=created_by,
                now=self.clock.now(),
            )
            return Program.of(row)

    def today(self) -> date:
        return self.clock.now().astimezone(self.settings.schedule.tz).date()

    async def program_thread(self, program_id: int, thread_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await ProgramsRepository(session, self.guild_id).set_thread(program_id, thread_id)

    async def program_posted(self, program_id: int, message_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await ProgramsRepository(session, self.guild_id).set_post(program_id, message_id)

    async def unposted(self) -> tuple[list[Program], list[Call]]:
        """Open programs and research calls saved without their post: made at the next start."""
        async with self.sessions() as session:
            repo = ProgramsRepository(session, self.guild_id)
            programs = [Program.of(r) for r in await repo.unposted_programs()]
            calls = [Call.of(r) for r in await repo.unposted_calls()]
            return programs, calls

    async def group_name(self, group_id: int | None) -> str | None:
        """The name of a call's user group (None: no group, or the group was deleted)."""
        if group_id is None:
            return None
        async with self.sessions() as session:
            found = await GroupRepository(session, self.guild_id).get(group_id)
            return None if found is None else found.name

    async def program(self, program_id: int) -> Program:
        async with self.sessions() as session:
            row = await ProgramsRepository(session, self.guild_id).program(program_id)
            if row is None:
                raise UserFacingError(NO_PROGRAM)
            return Program.of(row)

    async def programs(self, *, open_only: bool = True) -> list[Program]:
        async with self.sessions() as session:
            rows = await ProgramsRepository(session, self.guild_id).programs(open_only=open_only)
            return [Program.of(r) for r in rows]

    async def join(self, program_id: int, user_id: int) -> Program:
        """Join within the program's criteria; UserFacingError saying why not otherwise."""
        async with self.sessions() as session, session.begin():
            repo = ProgramsRepository(session, self.guild_id)
            row = await repo.program(program_id)
            if row is None:
                raise UserFacingError(NO_PROGRAM)
            if row.status != "open":
                raise UserFacingError(f"The beta program **{row.name}** is closed.")
            if row.until is not None and self.today() > row.until:
                raise UserFacingError(f"Joining **{row.name}** closed on {row.until.isoformat()}.")
            await self._tier_ok(repo, user_id, row.min_tier)
            outcome = await repo.join(program_id, user_id, now=self.clock.now())
            if outcome == "already":
                raise UserFacingError(f"You are already testing **{row.name}**.")
            if outcome == "full":
                raise UserFacingError(f"Sorry, every seat of **{row.name}** is taken.")
            fresh = await repo.program(program_id)
            assert fresh is not None
            return Program.of(fresh)

    async def submit_report(self, program_id: int, user_id: int, text: str) -> Report:
        clean = required(text, what="report", low=REPORT_MIN, high=REPORT_MAX)
        async with self.sessions() as session, session.begin():
            repo = ProgramsRepository(session, self.guild_id)
            program = await repo.program(program_id)
            if program is None:
                raise UserFacingError(NO_PROGRAM)
            if program.status != "open":
                raise UserFacingError(f"The beta program **{program.name}** is closed.")
            if not await repo.is_tester(program_id, user_id):
                raise UserFacingError(f"Join **{program.name}** first to send a report.")
            row = await repo.add_report(program_id, user_id, clean, now=self.clock.now())
            return Report.of(row, program.name)

    async def _report(self, repo: ProgramsRepository, report_id: int) -> Report:
        row = await repo.report(report_id)
        if row is None:
            raise UserFacingError("That report no longer exists.")
        program = await repo.program(row.program_id)
        return Report.of(row, program.name if program is not None else "?")

    async def check_report(self, report_id: int, moderator_id: int) -> ReportDecision:
        async with self.sessions() as session:
            report = await self._report(ProgramsRepository(session, self.guild_id), report_id)
        self._not_own(report, moderator_id)
        return ReportDecision(report, decided_now=report.status == "pending")

    @staticmethod
    def _not_own(report: Report, moderator_id: int) -> None:
        if report.user_id == moderator_id and report.status == "pending":
            raise UserFacingError("Another moderator decides on your own report.")

    async def decide_report(
        self, report_id: int, moderator_id: int, *, approve: bool, reason: str | None = None
    ) -> ReportDecision:
        clean = (
            None
            if reason is None
            else required(reason, what="reason", low=REASON_MIN, high=REASON_MAX)
        )
        async with self.sessions() as session, session.begin():
            repo = ProgramsRepository(session, self.guild_id)
            self._not_own(await self._report(repo, report_id), moderator_id)
            now_decided = await repo.decide_report(
                report_id,
                status="approved" if approve else "rejected",
                moderator_id=moderator_id,
                reason=clean,
                now=self.clock.now(),
            )
            return ReportDecision(await self._report(repo, report_id), now_decided)

    async def reports_without_card(self) -> list[Report]:
        async with self.sessions() as session:
            repo = ProgramsRepository(session, self.guild_id)
            return [await self._report(repo, r.id) for r in await repo.reports_without_card()]

    async def report_card_posted(self, report_id: int, channel_id: int, message_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await ProgramsRepository(session, self.guild_id).card_posted(
                report_id, channel_id, message_id
            )

    async def close(self, program_id: int, *, actor_id: int) -> Closed:
        """Close the program and credit its testers with an accepted report, once."""
        now = self.clock.now()
        worth = self.settings.points_for("beta_testing")
        async with self.sessions() as session, session.begin():
            repo = ProgramsRepository(session, self.guild_id)
            row = await repo.program(program_id)
            if row is None:
                raise UserFacingError(NO_PROGRAM)
            if not await repo.close(program_id, now=now):
                raise UserFacingError(f"The beta program **{row.name}** is already closed.")
            credited: list[int] = []
            points = 0
            for user_id in await repo.accepted_testers(program_id):
                if user_id <= 0:
                    continue
                credit = self.contributions.credit(
                    "beta_testing",
                    user_id,
                    f"beta:{program_id}",
                    occurred_at=now,
                    actor_id=actor_id,
                    reason=f"tested the beta '{row.name}'",
                    points=worth,
                )
                recorded = await self.contributions.record(session, credit)
                if recorded is not None:
                    credited.append(user_id)
                    points += recorded.points
            fresh = await repo.program(program_id)
            assert fresh is not None
            result = Closed(Program.of(fresh), tuple(credited), points)
        await self.contributions.changed(credited)
        return result

    async def to_thank(self, program_id: int) -> tuple[Program, list[int], set[int]]:
        """The program, the testers not yet thanked, and those credited (accepted report)."""
        async with self.sessions() as session:
            repo = ProgramsRepository(session, self.guild_id)
            row = await repo.program(program_id)
            if row is None:
                raise UserFacingError(NO_PROGRAM)
            return (
                Program.of(row),
                await repo.to_thank(program_id),
                set(await repo.accepted_testers(program_id)),
            )

    async def claim_thanks(self, program_id: int, user_id: int) -> bool:
        async with self.sessions() as session, session.begin():
            return await ProgramsRepository(session, self.guild_id).claim_thanks(
                program_id, user_id, now=self.clock.now()
            )

    async def record_thanks(self, program_id: int, user_id: int, *, ok: bool) -> None:
        async with self.sessions() as session, session.begin():
            await ProgramsRepository(session, self.guild_id).record_thanks(
                program_id, user_id, ok=ok, now=self.clock.now()
            )

    async def closed_unthanked(self) -> list[int]:
        """Closed programs with testers not yet thanked (a restart finishes them)."""
        async with self.sessions() as session:
            repo = ProgramsRepository(session, self.guild_id)
            return [
                p.id
                for p in await repo.programs(open_only=False)
                if p.status == "closed" and await repo.to_thank(p.id)
            ]

    # ------------------------------------------------------------------ research
    async def recruit(
        self,
        *,
        title: str,
        details: str,
        min_tier: str | None,
        region: str | None,
        group: str | None,
        seats: int | None,
        created_by: int,
    ) -> Call:
        clean_title = required(title, what="title", low=TITLE_MIN, high=TITLE_MAX, one_line=True)
        clean_details = required(details, what="details", low=DETAILS_MIN, high=DETAILS_MAX)
        tier = self.clean_tier(min_tier)
        if seats is not None and seats < 1:
            raise UserFacingError("Seats must be at least 1 (leave it out for no limit).")
        clean_region = region.strip()[:100] if region and region.strip() else None
        async with self.sessions() as session, session.begin():
            group_id = None
            if group is not None and group.strip():
                found = await GroupRepository(session, self.guild_id).by_key(name_key(group))
                if found is None:
                    raise UserFacingError(f"There is no user group called {group!r}.")
                group_id = found.id
            row = await ProgramsRepository(session, self.guild_id).create_call(
                title=clean_title,
                details=clean_details,
                min_tier=tier,
                region=clean_region,
                group_id=group_id,
                seats=seats,
                created_by=created_by,
                now=self.clock.now(),
            )
            return Call.of(row)

    async def call_posted(self, call_id: int, channel_id: int, message_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await ProgramsRepository(session, self.guild_id).call_posted(
                call_id, channel_id, message_id
            )

    async def call(self, call_id: int) -> Call:
        async with self.sessions() as session:
            row = await ProgramsRepository(session, self.guild_id).call(call_id)
            if row is None:
                raise UserFacingError(NO_CALL)
            return Call.of(row)

    async def calls(self) -> list[Call]:
        async with self.sessions() as session:
            return [Call.of(r) for r in await ProgramsRepository(session, self.guild_id).calls()]

    async def volunteer(self, call_id: int, user_id: int) -> Call:
        async with self.sessions() as session, session.begin():
            repo = ProgramsRepository(session, self.guild_id)
            row = await repo.call(call_id)
            if row is None:
                raise UserFacingError(NO_CALL)
            await self._tier_ok(repo, user_id, row.min_tier)
            if row.region is not None and row.region.casefold() not in await repo.regions_of(
                user_id
            ):
                raise UserFacingError(
                    f"This call is for members of a user group in {row.region} (see /group list)."
                )
            if row.group_id is not None and row.group_id not in await repo.group_ids_of(user_id):
                raise UserFacingError("This call is for the members of one user group.")
            if not await repo.volunteer(call_id, user_id, now=self.clock.now()):
                raise UserFacingError(f"You already volunteered for **{row.title}**.")
            return Call.of(row)

    async def volunteers(self, call_id: int) -> list[Volunteer]:
        async with self.sessions() as session:
            repo = ProgramsRepository(session, self.guild_id)
            if await repo.call(call_id) is None:
                raise UserFacingError(NO_CALL)
            return [
                Volunteer(
                    v.user_id, v.volunteered_at, v.picked_at is not None, v.took_part_at is not None
                )
                for v in await repo.volunteers(call_id)
            ]

    async def pick(self, call_id: int, user_id: int, *, by: int) -> Call:
        async with self.sessions() as session, session.begin():
            repo = ProgramsRepository(session, self.guild_id)
            row = await repo.call(call_id)
            if row is None:
                raise UserFacingError(NO_CALL)
            if await repo.volunteer_row(call_id, user_id) is None:
                raise UserFacingError("That member hasn't volunteered for this call.")
            outcome = await repo.pick(call_id, user_id, by=by, now=self.clock.now())
            if outcome == "already":
                raise UserFacingError("That member was picked already.")
            if outcome == "full":
                raise UserFacingError(f"Every seat of **{row.title}** is taken.")
            return Call.of(row)

    async def claim_pick_notice(self, call_id: int, user_id: int) -> bool:
        async with self.sessions() as session, session.begin():
            return await ProgramsRepository(session, self.guild_id).claim_pick_notice(
                call_id, user_id
            )

    async def record_pick_notice(self, call_id: int, user_id: int, *, ok: bool) -> None:
        async with self.sessions() as session, session.begin():
            await ProgramsRepository(session, self.guild_id).record_pick_notice(
                call_id, user_id, ok=ok
            )

    async def took_part(self, call_id: int, user_id: int, *, actor_id: int) -> int:
        """Credit ``user_research`` once; the points credited."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = ProgramsRepository(session, self.guild_id)
            row = await repo.call(call_id)
            if row is None:
                raise UserFacingError(NO_CALL)
            volunteer = await repo.volunteer_row(call_id, user_id)
            if volunteer is None or volunteer.picked_at is None:
                raise UserFacingError("Pick that member first (/research pick).")
            if not await repo.took_part(call_id, user_id, now=now):
                raise UserFacingError("That member is already credited for this session.")
            credit = self.contributions.credit(
                "user_research",
                user_id,
                f"research:{call_id}",
                occurred_at=now,
                actor_id=actor_id,
                reason=f"user research '{row.title}'",
            )
            recorded = await self.contributions.record(session, credit)
            points = recorded.points if recorded is not None else 0
        await self.contributions.changed({user_id})
        return points
