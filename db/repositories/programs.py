"""Beta programs (testers, reports, the closing thanks) and user-research calls (volunteers,
picks, who took part).

Seats are taken with conditional UPDATEs (``taken < seats``): two members joining the last seat
at once get one seat between them. DMs are claimed (``sending``) before they are sent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    BetaProgram,
    BetaReport,
    BetaTester,
    GroupMember,
    ResearchCall,
    ResearchVolunteer,
    TierState,
    UserGroup,
)
from db.repositories.leases import check_fence
from db.upsert import insert_for


def _count(result: Any) -> int:
    rows: CursorResult[Any] = result
    return int(rows.rowcount)


class ProgramsRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    # ------------------------------------------------------------------ members
    async def tier_of(self, user_id: int) -> str | None:
        return await self.session.scalar(
            select(TierState.tier_key).where(
                TierState.guild_id == self.guild_id, TierState.user_id == user_id
            )
        )

    async def group_ids_of(self, user_id: int) -> set[int]:
        rows = await self.session.scalars(
            select(GroupMember.group_id).where(
                GroupMember.guild_id == self.guild_id, GroupMember.user_id == user_id
            )
        )
        return {int(g) for g in rows}

    async def regions_of(self, user_id: int) -> set[str]:
        """The regions of the user groups the member belongs to, casefolded."""
        rows = await self.session.scalars(
            select(UserGroup.region)
            .join(GroupMember, GroupMember.group_id == UserGroup.id)
            .where(
                GroupMember.guild_id == self.guild_id,
                GroupMember.user_id == user_id,
                UserGroup.region.is_not(None),
            )
        )
        return {str(r).casefold() for r in rows}

    # ------------------------------------------------------------------ programs
    async def create_program(
        self,
        *,
        name: str,
        min_tier: str | None,
        seats: int | None,
        until: date | None,
        created_by: int,
        now: datetime,
    ) -> BetaProgram:
        row = BetaProgram(
            guild_id=self.guild_id,
            name=name,
            min_tier=min_tier,
            seats=seats,
            taken=0,
            until=until,
            status="open",
            created_by=created_by,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def program(self, program_id: int) -> BetaProgram | None:
        row = await self.session.get(BetaProgram, program_id, populate_existing=True)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def programs(self, *, open_only: bool) -> list[BetaProgram]:
        query = select(BetaProgram).where(BetaProgram.guild_id == self.guild_id)
        if open_only:
            query = query.where(BetaProgram.status == "open")
        return list(await self.session.scalars(query.order_by(BetaProgram.id)))

    async def set_thread(self, program_id: int, thread_id: int) -> None:
        await self.session.execute(
            update(BetaProgram)
            .where(BetaProgram.guild_id == self.guild_id, BetaProgram.id == program_id)
            .values(thread_id=thread_id)
        )

    async def set_post(self, program_id: int, message_id: int) -> None:
        await self.session.execute(
            update(BetaProgram)
            .where(BetaProgram.guild_id == self.guild_id, BetaProgram.id == program_id)
            .values(message_id=message_id)
        )

    async def unposted_programs(self) -> list[BetaProgram]:
        """Open programs whose thread or post was never made (Discord refused, or a crash)."""
        rows = await self.session.scalars(
            select(BetaProgram)
            .where(
                BetaProgram.guild_id == self.guild_id,
                BetaProgram.status == "open",
                or_(BetaProgram.thread_id.is_(None), BetaProgram.message_id.is_(None)),
            )
            .order_by(BetaProgram.id)
        )
        return list(rows)

    async def unposted_calls(self) -> list[ResearchCall]:
        rows = await self.session.scalars(
            select(ResearchCall)
            .where(ResearchCall.guild_id == self.guild_id, ResearchCall.message_id.is_(None))
            .order_by(ResearchCall.id)
        )
        return list(rows)

    async def join(self, program_id: int, user_id: int, *, now: datetime) -> str:
        """``joined``, ``already`` or ``full``; the seat and the tester row in one go."""
        inserted = await self.session.execute(
            insert_for(self.session, BetaTester)
            .values(guild_id=self.guild_id, program_id=program_id, user_id=user_id, joined_at=now)
            .on_conflict_do_nothing(index_elements=["guild_id", "program_id", "user_id"])
        )
        if _count(inserted) != 1:
            return "already"
        seat = await self.session.execute(
            update(BetaProgram)
            .where(
                BetaProgram.guild_id == self.guild_id,
                BetaProgram.id == program_id,
                BetaProgram.status == "open",
                or_(BetaProgram.seats.is_(None), BetaProgram.taken < BetaProgram.seats),
            )
            .values(taken=BetaProgram.taken + 1)
            .execution_options(synchronize_session=False)
        )
        return "joined" if _count(seat) == 1 else "full"

    async def is_tester(self, program_id: int, user_id: int) -> bool:
        found = await self.session.get(BetaTester, (self.guild_id, program_id, user_id))
        return found is not None

    async def testers(self, program_id: int) -> list[BetaTester]:
        rows = await self.session.scalars(
            select(BetaTester)
            .where(BetaTester.guild_id == self.guild_id, BetaTester.program_id == program_id)
            .order_by(BetaTester.joined_at, BetaTester.user_id)
        )
        return list(rows)

    async def close(self, program_id: int, *, now: datetime) -> bool:
        """Close an open program; False when it was closed already (by a concurrent call)."""
        result = await self.session.execute(
            update(BetaProgram)
            .where(
                BetaProgram.guild_id == self.guild_id,
                BetaProgram.id == program_id,
                BetaProgram.status == "open",
            )
            .values(status="closed", closed_at=now)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def to_thank(self, program_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(BetaTester.user_id)
            .where(
                BetaTester.guild_id == self.guild_id,
                BetaTester.program_id == program_id,
                BetaTester.thanks.is_(None),
            )
            .order_by(BetaTester.joined_at, BetaTester.user_id)
        )
        return [int(u) for u in rows]

    async def claim_thanks(self, program_id: int, user_id: int, *, now: datetime) -> bool:
        await check_fence(self.session)
        result = await self.session.execute(
            update(BetaTester)
            .where(
                BetaTester.guild_id == self.guild_id,
                BetaTester.program_id == program_id,
                BetaTester.user_id == user_id,
                BetaTester.thanks.is_(None),
            )
            .values(thanks="sending", thanked_at=now)
        )
        return _count(result) == 1

    async def record_thanks(
        self, program_id: int, user_id: int, *, ok: bool, now: datetime
    ) -> None:
        await self.session.execute(
            update(BetaTester)
            .where(
                BetaTester.guild_id == self.guild_id,
                BetaTester.program_id == program_id,
                BetaTester.user_id == user_id,
            )
            .values(thanks="sent" if ok else "failed", thanked_at=now)
        )

    # ------------------------------------------------------------------ reports
    async def add_report(
        self, program_id: int, user_id: int, text: str, *, now: datetime
    ) -> BetaReport:
        row = BetaReport(
            guild_id=self.guild_id,
            program_id=program_id,
            user_id=user_id,
            text=text,
            status="pending",
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def report(self, report_id: int) -> BetaReport | None:
        row = await self.session.get(BetaReport, report_id, populate_existing=True)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def decide_report(
        self, report_id: int, *, status: str, moderator_id: int, reason: str | None, now: datetime
    ) -> bool:
        """Decide a pending report; False when someone decided it first."""
        result = await self.session.execute(
            update(BetaReport)
            .where(
                BetaReport.guild_id == self.guild_id,
                BetaReport.id == report_id,
                BetaReport.status == "pending",
            )
            .values(status=status, decided_by=moderator_id, decided_at=now, decision_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def reports_without_card(self) -> list[BetaReport]:
        rows = await self.session.scalars(
            select(BetaReport)
            .where(
                BetaReport.guild_id == self.guild_id,
                BetaReport.status == "pending",
                BetaReport.review_message_id.is_(None),
            )
            .order_by(BetaReport.id)
        )
        return list(rows)

    async def card_posted(self, report_id: int, channel_id: int, message_id: int) -> None:
        await self.session.execute(
            update(BetaReport)
            .where(BetaReport.guild_id == self.guild_id, BetaReport.id == report_id)
            .values(review_channel_id=channel_id, review_message_id=message_id)
        )

    async def accepted_testers(self, program_id: int) -> list[int]:
        """Testers of the program with at least one approved report."""
        rows = await self.session.scalars(
            select(BetaReport.user_id)
            .where(
                BetaReport.guild_id == self.guild_id,
                BetaReport.program_id == program_id,
                BetaReport.status == "approved",
            )
            .distinct()
        )
        return sorted(int(u) for u in rows)

    # ------------------------------------------------------------------ research
    async def create_call(
        self,
        *,
        title: str,
        details: str,
        min_tier: str | None,
        region: str | None,
        group_id: int | None,
        seats: int | None,
        created_by: int,
        now: datetime,
    ) -> ResearchCall:
        row = ResearchCall(
            guild_id=self.guild_id,
            title=title,
            details=details,
            min_tier=min_tier,
            region=region,
            group_id=group_id,
            seats=seats,
            picked=0,
            created_by=created_by,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def call(self, call_id: int) -> ResearchCall | None:
        row = await self.session.get(ResearchCall, call_id, populate_existing=True)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def calls(self) -> list[ResearchCall]:
        rows = await self.session.scalars(
            select(ResearchCall)
            .where(ResearchCall.guild_id == self.guild_id)
            .order_by(ResearchCall.id.desc())
        )
        return list(rows)

    async def call_posted(self, call_id: int, channel_id: int, message_id: int) -> None:
        await self.session.execute(
            update(ResearchCall)
            .where(ResearchCall.guild_id == self.guild_id, ResearchCall.id == call_id)
            .values(channel_id=channel_id, message_id=message_id)
        )

    async def volunteer(self, call_id: int, user_id: int, *, now: datetime) -> bool:
        """True if the member volunteered now, False if they had before."""
        result = await self.session.execute(
            insert_for(self.session, ResearchVolunteer)
            .values(guild_id=self.guild_id, call_id=call_id, user_id=user_id, volunteered_at=now)
            .on_conflict_do_nothing(index_elements=["guild_id", "call_id", "user_id"])
        )
        return _count(result) == 1

    async def volunteer_row(self, call_id: int, user_id: int) -> ResearchVolunteer | None:
        return await self.session.get(
            ResearchVolunteer, (self.guild_id, call_id, user_id), populate_existing=True
        )

    async def volunteers(self, call_id: int) -> list[ResearchVolunteer]:
        rows = await self.session.scalars(
            select(ResearchVolunteer)
            .where(
                ResearchVolunteer.guild_id == self.guild_id, ResearchVolunteer.call_id == call_id
            )
            .order_by(ResearchVolunteer.volunteered_at, ResearchVolunteer.user_id)
        )
        return list(rows)

    async def pick(self, call_id: int, user_id: int, *, by: int, now: datetime) -> str:
        """``picked``, ``already`` or ``full``: the pick and its seat in one go."""
        marked = await self.session.execute(
            update(ResearchVolunteer)
            .where(
                ResearchVolunteer.guild_id == self.guild_id,
                ResearchVolunteer.call_id == call_id,
                ResearchVolunteer.user_id == user_id,
                ResearchVolunteer.picked_at.is_(None),
            )
            .values(picked_at=now, picked_by=by)
            .execution_options(synchronize_session=False)
        )
        if _count(marked) != 1:
            return "already"
        seat = await self.session.execute(
            update(ResearchCall)
            .where(
                ResearchCall.guild_id == self.guild_id,
                ResearchCall.id == call_id,
                or_(ResearchCall.seats.is_(None), ResearchCall.picked < ResearchCall.seats),
            )
            .values(picked=ResearchCall.picked + 1)
            .execution_options(synchronize_session=False)
        )
        return "picked" if _count(seat) == 1 else "full"

    async def claim_pick_notice(self, call_id: int, user_id: int) -> bool:
        await check_fence(self.session)
        result = await self.session.execute(
            update(ResearchVolunteer)
            .where(
                ResearchVolunteer.guild_id == self.guild_id,
                ResearchVolunteer.call_id == call_id,
                ResearchVolunteer.user_id == user_id,
                ResearchVolunteer.pick_notice.is_(None),
            )
            .values(pick_notice="sending")
        )
        return _count(result) == 1

    async def record_pick_notice(self, call_id: int, user_id: int, *, ok: bool) -> None:
        await self.session.execute(
            update(ResearchVolunteer)
            .where(
                ResearchVolunteer.guild_id == self.guild_id,
                ResearchVolunteer.call_id == call_id,
                ResearchVolunteer.user_id == user_id,
            )
            .values(pick_notice="sent" if ok else "failed")
        )

    async def took_part(self, call_id: int, user_id: int, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(ResearchVolunteer)
            .where(
                ResearchVolunteer.guild_id == self.guild_id,
                ResearchVolunteer.call_id == call_id,
                ResearchVolunteer.user_id == user_id,
                ResearchVolunteer.took_part_at.is_(None),
            )
            .values(took_part_at=now)
        )
        return _count(result) == 1
