"""One program model: features react to each other through the services, whichever cogs run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.client import all_extensions
from bot.emulated import running_bot
from db.models import ActivityDay
from tests.e2e.util import eventually, members_synced

pytestmark = pytest.mark.e2e


async def meets_champion(bot, user_id: int) -> None:
    """Five accepted answers (50 points) and two active weeks: everything Champion asks."""
    ledger = bot.services.contributions
    today = bot.clock.now().astimezone(bot.settings.schedule.tz).date()
    async with bot.services.sessions() as session, session.begin():
        for n in range(5):
            await ledger.record(session, ledger.credit("answer", user_id, f"test:answer:{n}"))
        for week in range(2):
            day = today - timedelta(days=7 * week)
            session.add(ActivityDay(guild_id=bot.guild_id, user_id=user_id, day=day, messages=3))


async def test_a_contribution_promotes_with_role_and_news_without_the_ladder_cog(
    bot_config, emulator, community, clock
):
    """The reaction chain (contribution → evaluation → role, announcement, DM) is the services'.

    Before, it lived in the ladder cog: without that cog a promotion was stored but no role was
    given. Here every cog but the ladder's runs.
    """
    extensions = [name for name in all_extensions() if name != "cogs.ladder"]
    async with running_bot(bot_config, clock=clock, extensions=extensions) as app:
        bot, ada = app.bot, community.members["ada"]
        assert bot.get_cog("Ladder") is None
        await members_synced(bot, community.members.values())
        await meets_champion(bot, ada)

        await bot.services.contributions.changed({ada})

        champion = community.tier_role_ids["champion"]
        await eventually(lambda: champion in emulator.member_roles(community.guild_id, ada))
        await eventually(lambda: any("Champion" in (m["content"] or "") for m in emulator.dms(ada)))
        announced = emulator.messages(community.channels["announcements"])
        assert any(m["content"] == f"🎉 <@{ada}> is now a Champion!" for m in announced)
