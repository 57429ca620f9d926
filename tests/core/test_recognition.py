"""Weekly recognition, spotlight rotation and quarterly awards; hidden members never named."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.embeds import (
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    TITLE_MAX,
    EmbedSpec,
    embed_chars,
)
from bot.core.kinds import BUILT_IN
from bot.core.periods import quarterly_period, weekly_period
from bot.core.recognition import (
    Award,
    AwardsInputs,
    Category,
    Leader,
    Spotlight,
    SpotlightNomination,
    TierArrival,
    WeeklyInputs,
    choose_spotlight,
    compose_awards,
    compose_weekly,
    render_awards,
    render_weekly,
    scrub_mentions,
    visible_arrivals,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = weekly_period(datetime(2026, 11, 23, 10, tzinfo=BERLIN), BERLIN)
QUARTER = quarterly_period(datetime(2026, 10, 1, 10, tzinfo=BERLIN), BERLIN)
T0 = datetime(2026, 11, 17, 12, tzinfo=UTC)
_MENTION = re.compile(r"<@!?(\d+)>")

BASE = WeeklyInputs(
    period=WEEK,
    counts={},
    hidden=frozenset(),
    arrivals=(),
    nominations=(),
    candidates={},
    recently_spotlighted=frozenset(),
    kinds=BUILT_IN,
)


def nomination(
    nid: int, user_id: int, reason: str = "Always kind", days: int = 0
) -> SpotlightNomination:
    return SpotlightNomination(
        id=nid,
        user_id=user_id,
        reason=reason,
        nominated_by=900,
        created_at=T0 + timedelta(days=days),
    )


def text_of(embeds: list[EmbedSpec]) -> str:
    parts = []
    for embed in embeds:
        parts += [embed.title, embed.description, embed.footer]
        parts += [f"{f.name}\n{f.value}" for f in embed.fields]
    return "\n".join(parts)


def mentioned(embeds: list[EmbedSpec]) -> set[int]:
    return {int(m) for m in _MENTION.findall(text_of(embeds))}


def assert_sendable(embeds: list[EmbedSpec]) -> None:
    assert embeds
    for embed in embeds:
        assert len(embed.title) <= TITLE_MAX
        assert len(embed.fields) <= FIELDS_MAX
        assert all(len(f.value) <= FIELD_VALUE_MAX for f in embed.fields)
        assert embed_chars(embed) <= EMBED_TOTAL_MAX


# --------------------------------------------------------------------------------------------
# Categories
# --------------------------------------------------------------------------------------------


def test_leaders_are_top_n_per_kind_ties_by_user_id() -> None:
    counts = {
        5: {"answer": 4, "content": 1},
        3: {"answer": 4},
        8: {"answer": 7, "thanks_received": 2},
        2: {"answer": 1},
        9: {"answer": 0, "event_hosted": -1},
    }
    digest = compose_weekly(replace(BASE, counts=counts))
    assert digest.categories == (
        Category(BUILT_IN.kind("answer"), (Leader(8, 7), Leader(3, 4), Leader(5, 4))),
        Category(BUILT_IN.kind("content"), (Leader(5, 1),)),
        Category(BUILT_IN.kind("thanks_received"), (Leader(8, 2),)),
    )
    assert digest.named == {3, 5, 8}


def test_hidden_members_are_removed_before_taking_the_top() -> None:
    counts = {1: {"answer": 9}, 2: {"answer": 8}, 3: {"answer": 7}, 4: {"answer": 6}}
    digest = compose_weekly(replace(BASE, counts=counts, hidden=frozenset({1})))
    assert digest.categories[0].leaders == (Leader(2, 8), Leader(3, 7), Leader(4, 6))
    assert 1 not in digest.named


@pytest.mark.parametrize("top_n", [0, -1])
def test_no_leaders_when_top_n_is_not_positive(top_n: int) -> None:
    digest = compose_weekly(replace(BASE, counts={1: {"answer": 3}}, top_n=top_n))
    assert digest.categories == ()


def test_arrivals_drop_hidden_members_and_keep_each_members_latest_tier() -> None:
    arrivals = [
        TierArrival(1, "Regular", T0),
        TierArrival(2, "Regular", T0 + timedelta(hours=1)),
        TierArrival(1, "Champion", T0 + timedelta(days=2)),
        TierArrival(3, "Regular", T0),
    ]
    assert visible_arrivals(arrivals, frozenset({3})) == (
        TierArrival(2, "Regular", T0 + timedelta(hours=1)),
        TierArrival(1, "Champion", T0 + timedelta(days=2)),
    )


# --------------------------------------------------------------------------------------------
# Spotlight
# --------------------------------------------------------------------------------------------


def test_spotlight_reuses_the_recorded_choice() -> None:
    recorded = Spotlight(7, "Ran the game night", "nomination", 12)
    inputs = replace(BASE, recorded_spotlight=recorded, nominations=(nomination(1, 4),))
    assert choose_spotlight(inputs) == recorded


def test_a_recorded_spotlight_of_a_member_now_hidden_is_not_shown() -> None:
    recorded = Spotlight(7, "Ran the game night", "nomination", 12)
    inputs = replace(BASE, recorded_spotlight=recorded, hidden=frozenset({7}))
    assert choose_spotlight(inputs) is None


def test_oldest_eligible_nomination_wins() -> None:
    inputs = replace(
        BASE,
        nominations=(
            nomination(3, 30, days=2),
            nomination(1, 10, days=0),  # hidden
            nomination(2, 20, days=1),  # recently spotlighted
            nomination(4, 40, "  Welcomes every newcomer  ", days=1),
        ),
        hidden=frozenset({10}),
        recently_spotlighted=frozenset({20}),
        candidates={99: 500},
    )
    assert choose_spotlight(inputs) == Spotlight(40, "Welcomes every newcomer", "nomination", 4)


@pytest.mark.parametrize(
    ("candidates", "hidden", "recent", "expected"),
    [
        ({1: 50, 2: 80, 3: 80}, set(), set(), 2),  # most points, ties by lowest id
        ({1: 50, 2: 80, 3: 80}, {2}, set(), 3),
        ({1: 50, 2: 80, 3: 80}, set(), {2, 3}, 1),
        ({1: 9, 2: 5}, set(), set(), None),  # below spotlight_min_points
        ({1: 10}, set(), set(), 1),  # exactly the minimum
        ({}, set(), set(), None),
    ],
)
def test_spotlight_from_contributions(
    candidates: dict[int, int], hidden: set[int], recent: set[int], expected: int | None
) -> None:
    inputs = replace(
        BASE,
        candidates=candidates,
        hidden=frozenset(hidden),
        recently_spotlighted=frozenset(recent),
    )
    chosen = choose_spotlight(inputs)
    assert (None if chosen is None else chosen.user_id) == expected
    if chosen is not None:
        assert (chosen.source, chosen.nomination_id) == ("contributions", None)


def test_spotlight_rotates_over_consecutive_weeks() -> None:
    candidates = {1: 100, 2: 90, 3: 80}
    recent: frozenset[int] = frozenset()
    chosen = []
    for _ in range(4):
        spotlight = choose_spotlight(
            replace(BASE, candidates=candidates, recently_spotlighted=recent)
        )
        assert spotlight is not None
        chosen.append(spotlight.user_id)
        # A cooldown of two weeks: the last two spotlighted are skipped.
        recent = frozenset(chosen[-2:])
    assert chosen == [1, 2, 3, 1]


def test_contribution_reason_mentions_the_numbers() -> None:
    inputs = replace(
        BASE,
        candidates={4: 120},
        counts={4: {"answer": 5, "content": 1}},
        spotlight_lookback_days=28,
    )
    spotlight = choose_spotlight(inputs)
    assert spotlight is not None
    assert spotlight.reason == (
        "A steady force in the community: 120 contribution points in the last 28 days, "
        "including 5 accepted answers and 1 piece of content this week. Thank you!"
    )


def test_nomination_reasons_do_not_name_hidden_members() -> None:
    inputs = replace(
        BASE,
        nominations=(nomination(1, 4, "Helped <@5> and <@!6> with their bots"),),
        hidden=frozenset({5}),
    )
    spotlight = choose_spotlight(inputs)
    assert spotlight is not None
    assert spotlight.reason == "Helped a member and <@!6> with their bots"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks <@1>", "thanks a member"),
        ("<@!1><@12>", "a member<@12>"),
        ("<@2> and <#1>", "<@2> and <#1>"),
    ],
)
def test_scrub_mentions(text: str, expected: str) -> None:
    assert scrub_mentions(text, frozenset({1})) == expected


# --------------------------------------------------------------------------------------------
# Rendering the weekly post
# --------------------------------------------------------------------------------------------


def test_render_weekly() -> None:
    inputs = replace(
        BASE,
        counts={1: {"answer": 5}, 2: {"answer": 1, "event_hosted": 2}},
        arrivals=(TierArrival(3, "Core_Contributor", T0),),
        nominations=(nomination(8, 4, "Ran our first hack night\nand wrote it up"),),
    )
    digest = compose_weekly(inputs)
    assert not digest.is_empty
    assert digest.named == {1, 2, 3, 4}
    (embed,) = render_weekly(digest)
    assert embed.title == "Weekly recognition · 16–22 November 2026"
    assert [(f.name, f.value) for f in embed.fields] == [
        ("Answers", "1. <@1> — 5 accepted answers\n2. <@2> — 1 accepted answer"),
        ("Events hosted", "1. <@2> — 2 events hosted"),
        ("New tier members", "<@3> reached **Core\\_Contributor**"),
        ("Member spotlight", "🌟 <@4>\n> Ran our first hack night\n> and wrote it up"),
    ]
    assert mentioned([embed]) == digest.named


def test_an_empty_week_renders_a_friendly_note() -> None:
    digest = compose_weekly(replace(BASE, counts={1: {"answer": 3}}, hidden=frozenset({1})))
    assert digest.is_empty
    (embed,) = render_weekly(digest)
    assert embed.title == "Weekly recognition · 16–22 November 2026"
    assert embed.description.startswith("A quiet week")
    assert embed.fields == ()
    assert mentioned([embed]) == set()


def test_a_week_with_only_a_spotlight_is_not_empty() -> None:
    digest = compose_weekly(replace(BASE, candidates={5: 40}))
    assert not digest.is_empty
    (embed,) = render_weekly(digest)
    assert [f.name for f in embed.fields] == ["Member spotlight"]


def test_huge_inputs_still_render_within_limits_and_name_everyone() -> None:
    counts = {user: {k.key: 1000 + user for k in BUILT_IN.awarded()} for user in range(1, 400)}
    arrivals = [TierArrival(u, "T" * 200, T0) for u in range(1, 400)]
    digest = compose_weekly(
        replace(
            BASE,
            counts=counts,
            arrivals=arrivals,
            nominations=(nomination(1, 3, "x" * 5000),),
            top_n=200,
        )
    )
    embeds = render_weekly(digest)
    assert len(embeds) > 1
    assert_sendable(embeds)
    assert mentioned(embeds) == digest.named == set(range(1, 400))


USERS = st.integers(1, 12)
KINDS = st.sampled_from([*(k.key for k in BUILT_IN.awarded()), "message_day"])


@settings(max_examples=200, deadline=None)
@given(
    counts=st.dictionaries(USERS, st.dictionaries(KINDS, st.integers(-3, 20)), max_size=12),
    hidden=st.frozensets(USERS),
    arrivals=st.lists(
        st.builds(TierArrival, USERS, st.sampled_from(["Regular", "Core"]), st.just(T0))
    ),
    nominated=st.lists(st.tuples(USERS, USERS), max_size=4),
    candidates=st.dictionaries(USERS, st.integers(-5, 200)),
    recent=st.frozensets(USERS),
    recorded=st.none()
    | st.builds(Spotlight, USERS, st.just("recorded"), st.just("nomination"), st.none()),
)
def test_hidden_members_never_appear_in_the_weekly_post(
    counts: dict[int, dict[str, int]],
    hidden: frozenset[int],
    arrivals: list[TierArrival],
    nominated: list[tuple[int, int]],
    candidates: dict[int, int],
    recent: frozenset[int],
    recorded: Spotlight | None,
) -> None:
    nominations = tuple(
        nomination(i, user, f"Helped <@{other}> a lot", days=i)
        for i, (user, other) in enumerate(nominated)
    )
    inputs = replace(
        BASE,
        counts=counts,
        hidden=hidden,
        arrivals=arrivals,
        nominations=nominations,
        candidates=candidates,
        recently_spotlighted=recent,
        recorded_spotlight=recorded,
    )
    digest = compose_weekly(inputs)
    embeds = render_weekly(digest)
    assert_sendable(embeds)
    assert not digest.named & hidden
    assert not mentioned(embeds) & hidden
    assert digest.named <= mentioned(embeds)
    spotlight = digest.spotlight
    if spotlight is not None:
        assert spotlight.user_id not in hidden
        if recorded is None:
            assert spotlight.user_id not in recent
    assert all(a.user_id not in hidden for a in digest.arrivals)


# --------------------------------------------------------------------------------------------
# Quarterly awards
# --------------------------------------------------------------------------------------------

AWARDS_BASE = AwardsInputs(
    period=QUARTER, counts={}, points={}, hidden=frozenset(), active_days={}, kinds=BUILT_IN
)


def test_one_winner_per_category_by_count_then_points_then_id() -> None:
    inputs = replace(
        AWARDS_BASE,
        counts={
            1: {"answer": 14, "referral": 2},
            2: {"answer": 14, "content": 1},
            3: {"answer": 14, "mentoring": 1},
            4: {"answer": 3},
        },
        points={1: {"answer": 140}, 2: {"answer": 150, "content": 10}, 3: {"answer": 150}},
        active_days={1: 40, 4: 61, 5: 61},
    )
    digest = compose_awards(inputs)
    assert digest.awards == (
        Award("answer", "Top helper", 2, 14, 150, "14 accepted answers"),
        Award("content", "Top creator", 2, 1, 10, "1 piece of content"),
        Award("referral", "Top recruiter", 1, 2, 0, "2 referrals"),
        Award("mentoring", "Top mentor", 3, 1, 0, "1 mentoring session"),
        Award("active_days", "Most consistent", 4, 61, 0, "active on 61 days"),
    )
    assert digest.named == {1, 2, 3, 4}
    assert not digest.is_empty


def test_hidden_members_win_no_award() -> None:
    inputs = replace(
        AWARDS_BASE,
        counts={1: {"thanks_received": 30}, 2: {"thanks_received": 1}},
        hidden=frozenset({1, 3}),
        active_days={3: 90},
    )
    digest = compose_awards(inputs)
    assert digest.awards == (
        Award("thanks_received", "Most thanked", 2, 1, 0, "1 thank-you received"),
    )
    assert not mentioned(render_awards(digest)) & {1, 3}


def test_render_awards() -> None:
    inputs = replace(
        AWARDS_BASE,
        counts={7: {"event_hosted": 3}},
        points={7: {"event_hosted": 45}},
    )
    (embed,) = render_awards(compose_awards(inputs))
    assert embed.title == "Quarterly awards · Q3 2026"
    assert [(f.name, f.value) for f in embed.fields] == [
        ("🏆 Top host", "<@7> — 3 events hosted · 45 points"),
    ]


def test_a_quiet_quarter_renders_a_note() -> None:
    digest = compose_awards(AWARDS_BASE)
    assert digest.is_empty
    (embed,) = render_awards(digest)
    assert embed.description.startswith("A quiet quarter")
