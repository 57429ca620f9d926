"""The config file's schema: one frozen pydantic model per section, with defaults and examples.

This is the one place that says which keys exist, what each may hold, its default and, where
the default is no good example (none, empty, or a value worth changing), ``Field(examples=…)``.
Error messages read their examples from here (:mod:`bot.config.examples`) and a test holds
``config.example.toml`` to these defaults. Checks that span several keys live on the models.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Self, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    ModelWrapValidatorHandler,
    SecretStr,
    Strict,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema
from pydantic_core.core_schema import ErrorType

from bot.config.cadence import Cadence, Daily, Monthly, MonthlyAt, Weekly, WeeklyAt
from bot.config.fields import (
    EXAMPLE_ID,
    KIND_KEY_PATTERN,
    AnyCaseLogLevel,
    BindAddress,
    CountMap,
    DatabaseUrl,
    EnvName,
    FilePath,
    FolderPath,
    HttpBase,
    HttpLink,
    MinCounts,
    NonNegInt,
    Percent,
    PositiveInt,
    ShardCount,
    Snowflake,
    StrictFlag,
    StrictText,
    TimezoneName,
    WsUrl,
    lenient_snowflake,
    mask_database_url,
    non_blank,
)
from bot.config.problems import problem
from bot.core.kinds import BUILT_IN, Kind, KindTable


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class DiscordConfig(_Section):
    guild_id: Snowflake = Field(examples=[EXAMPLE_ID])
    token_env: EnvName = "DISCORD_TOKEN"
    api_base: HttpBase = "https://discord.com/api/v10"
    gateway_url: WsUrl | None = Field(None, examples=["wss://gateway.discord.gg"])
    sync_commands: StrictFlag = True
    servers_dir: FolderPath | None = Field(None, examples=["servers"])
    """A folder of server files, one ``*.toml`` per server (see :mod:`bot.config.servers`);
    relative to the config file's folder. None: this file is the one server."""
    shard_count: ShardCount | None = Field(None, examples=[4])
    """Shards the servers are split into (``auto``: the count Discord recommends); None:
    one connection, no sharding."""
    shard_ids: tuple[NonNegInt, ...] | None = Field(None, examples=[[0, 1]])
    """The shards this process runs (each below ``shard_count``); None: all of them."""


class DatabaseConfig(_Section):
    url: DatabaseUrl = "sqlite+aiosqlite:///flywheel.db"
    auto_migrate: StrictFlag = True
    echo: StrictFlag = False

    @property
    def url_masked(self) -> str:
        """``url`` with any password replaced by ``***``."""
        return mask_database_url(self.url)


class LoggingConfig(_Section):
    level: AnyCaseLogLevel = "INFO"
    file: FilePath | None = Field(None, examples=["flywheel.log"])


class ScheduleConfig(_Section):
    timezone: TimezoneName = Field("UTC", examples=["Europe/Berlin"])
    catch_up_grace_days: NonNegInt = 3
    weekly_recognition: Weekly = WeeklyAt(0, dt.time(10, 0))
    newsletter: Monthly = MonthlyAt(1, dt.time(9, 0))
    quarterly_awards: Monthly = MonthlyAt(1, dt.time(10, 0))
    """Day of the first month of each quarter (January, April, July, October)."""
    ladder_sweep: Daily = dt.time(3, 0)
    """Every member evaluated and every tier role checked, daily: a quiet hour."""
    buddy_settlement: Daily = dt.time(3, 30)
    retention: Daily = dt.time(4, 15)
    group_nudges: Daily = dt.time(10, 0)
    integrity_note: Weekly = WeeklyAt(0, dt.time(9, 0))
    """The weekly note in the mod log on members who credit each other (``[integrity]``)."""

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class ChannelsConfig(_Section):
    announcements: Snowflake = Field(examples=[EXAMPLE_ID])
    newsletter: Snowflake = Field(examples=[EXAMPLE_ID])
    """Defaults to ``announcements`` when left out."""
    review: Snowflake = Field(examples=[EXAMPLE_ID])
    mod_log: Snowflake = Field(examples=[EXAMPLE_ID])
    help_forums: tuple[Snowflake, ...] = Field((), examples=[[EXAMPLE_ID]])
    help_channels: tuple[Snowflake, ...] = Field((), examples=[[EXAMPLE_ID]])
    """Text channels whose threads are help questions (forums are configured above)."""

    @model_validator(mode="before")
    @classmethod
    def _newsletter_defaults_to_announcements(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "newsletter" not in data:
            announcements = lenient_snowflake(data.get("announcements"))
            # When announcements is missing or invalid it is reported on its own and the model
            # is never built; 1 is only a stand-in so newsletter is not reported as well.
            return {**data, "newsletter": announcements if announcements is not None else 1}
        return data


class RolesConfig(_Section):
    moderators: tuple[Snowflake, ...] = Field((), examples=[[EXAMPLE_ID]])
    """Moderator roles; members with Manage Server always count as moderators too."""


class ActivityConfig(_Section):
    cooldown_seconds: NonNegInt = 60
    min_length: NonNegInt = 10
    ignored_channels: tuple[Snowflake, ...] = Field((), examples=[[EXAMPLE_ID]])
    ignored_categories: tuple[Snowflake, ...] = Field((), examples=[[EXAMPLE_ID]])
    uncount_deleted_within_seconds: NonNegInt = 300
    flush_interval_seconds: Annotated[float, Strict(), Field(gt=0)] = 0.5


class PointsBase(_Section):
    """Points per built-in contribution kind; :func:`points_model` adds one key per kind.

    A server's own kinds carry their points in their ``[[kinds]]`` entry:
    :meth:`Settings.points_for` answers for every kind.
    """


def points_model(table: Iterable[Kind]) -> type[PointsBase]:
    """The ``[points]`` section for ``table``: a key per kind, in order, defaulting to its points.

    Built from the kinds table so that a new kind is a new key with its default here, in the
    examples and in ``config.example.toml``'s check without a second list to keep in step.
    """
    fields: dict[str, Any] = {
        row.key: (NonNegInt, Field(row.default_points, description=row.credited))
        for row in table
        if row.configurable
    }
    return create_model("PointsConfig", __base__=PointsBase, __module__=__name__, **fields)


# The fields are only known at run time: type checkers see the base.
if TYPE_CHECKING:
    PointsConfig = PointsBase
else:
    PointsConfig = points_model(BUILT_IN)

#: The kinds examples name: the two the weekly post leads with.
_SAMPLE_KIND, _OTHER_SAMPLE_KIND = BUILT_IN.weekly()[:2]

#: What a server's own kind says about how it is earned, when its entry leaves it out.
_CREDITED_TEXT: Final = {
    "moderators": "Credited by moderators with /contribution add.",
    "review": "Submitted with /contribution submit and approved by a moderator.",
}
KindText = Annotated[str, Strict(), AfterValidator(non_blank), Field(max_length=100)]


def _only_moderators_or_review(value: object) -> object:
    if value == "feature":
        raise problem(
            "'feature' is for the kinds Flywheel's own features credit; a kind of your own is "
            "credited by 'moderators' (with /contribution add) or by 'review' (members submit "
            "evidence with /contribution submit, a moderator approves it)"
        )
    return value


class KindConfig(_Section):
    """A contribution kind the server defines (``[[kinds]]``), beside the built-in ones."""

    key: Annotated[str, Strict(), Field(pattern=KIND_KEY_PATTERN)] = Field(examples=["talk"])
    label: KindText = Field(examples=["Talks given"])
    noun: KindText = Field(examples=["talk"])
    """One of them, as in "1 talk"."""
    plural: KindText = Field(examples=["talks"])
    """Several of them, as in "3 talks"."""
    points: NonNegInt = Field(examples=[15])
    credited: Annotated[
        Literal["moderators", "review"], BeforeValidator(_only_moderators_or_review)
    ] = Field(examples=["review"])
    description: Annotated[str, Strict(), Field(max_length=200)] = Field(
        "", examples=["For a talk about the product at a meetup or conference."]
    )
    """How a member earns it, for /contribution submit and the docs; a default says how it
    is credited."""
    weekly: StrictFlag = False
    """Give it a section in the weekly recognition post."""
    award: KindText | None = Field(None, examples=["Top speaker"])
    """Title of a quarterly award for it; leave it out for no award."""

    def row(self, rank: int | None) -> Kind:
        return Kind(
            key=self.key,
            default_points=self.points,
            label=self.label,
            one=self.noun,
            many=self.plural,
            credited=self.description or _CREDITED_TEXT[self.credited],
            award=self.award,
            weekly=self.weekly,
            rank=rank,
            credit=self.credited,
        )


def _kind_table(entries: tuple[KindConfig, ...]) -> KindTable:
    """The built-in kinds and then ``entries``; ranked ones follow the built-in ranks in order.

    An entry whose key is taken is left out here: :func:`_conflicts` reports it, so settings
    holding such a table are never built.
    """
    rank = BUILT_IN.next_rank()
    rows: list[Kind] = []
    taken = set(BUILT_IN.keys())
    for entry in entries:
        if entry.key in taken:
            continue
        taken.add(entry.key)
        ranked = entry.weekly or entry.award is not None
        rows.append(entry.row(rank if ranked else None))
        rank += ranked
    return BUILT_IN.extended(rows)


def _kinds_schema(_source: Any, handler: Any) -> Any:
    return core_schema.no_info_after_validator_function(
        _kind_table,
        handler(tuple[KindConfig, ...]),
        serialization=core_schema.plain_serializer_function_ser_schema(_kind_entries),
    )


def _kind_entries(table: KindTable) -> list[dict[str, Any]]:
    """The server's own kinds as their ``[[kinds]]`` entries (the built-in ones are implied)."""
    return [
        {
            "key": row.key,
            "label": row.label,
            "noun": row.one,
            "plural": row.many,
            "points": row.default_points,
            "credited": row.credit,
            "description": row.credited,
            "weekly": row.weekly,
            "award": row.award,
        }
        for row in table
        if row.credit != "feature"
    ]


KindsOfTheServer = Annotated[KindTable, GetPydanticSchema(_kinds_schema)]
"""``[[kinds]]``, validated into the whole table: :data:`BUILT_IN` plus the server's kinds."""


class ThanksConfig(_Section):
    per_pair_per_day: PositiveInt = 1
    daily_cap: PositiveInt = 5
    recent_post_hours: PositiveInt = 72
    reason_max_length: Annotated[int, Strict(), Field(ge=1, le=1000)] = 200


class AnswersConfig(_Section):
    solved_tags: tuple[Annotated[str, Strict(), AfterValidator(non_blank)], ...] = Field(
        ("Solved", "Answered", "Resolved"), examples=[["Solved", "Answered"]]
    )
    """Forum tag names (any case) applied when an answer is accepted; the first one found wins."""


class EventsConfig(_Section):
    min_attendees: NonNegInt = 3
    min_minutes: Annotated[int, Strict(), Field(ge=1, le=1440)] = 10


class ReferralsConfig(_Section):
    min_days: NonNegInt = 7
    min_active_days: NonNegInt = 1
    grace_days: PositiveInt = 30

    @model_validator(mode="after")
    def _grace_covers_min_days(self) -> Self:
        if self.grace_days < self.min_days:
            raise problem(
                f"must be at least min_days ({self.min_days}); got {self.grace_days}",
                field="grace_days",
            )
        return self


TIER_KEY_PATTERN: Final = r"^[a-z][a-z0-9_]{0,31}$"


class TierConfig(_Section):
    key: Annotated[str, Strict(), Field(pattern=TIER_KEY_PATTERN)] = Field(examples=["champion"])
    name: Annotated[str, Strict(), AfterValidator(non_blank)] = Field(examples=["Champion"])
    role_id: Snowflake = Field(examples=[EXAMPLE_ID])
    window_days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 90
    min_points: NonNegInt = Field(0, examples=[100])
    min_counts: MinCounts = Field(
        default_factory=CountMap, examples=[{_SAMPLE_KIND.key: 5, _OTHER_SAMPLE_KIND.key: 1}]
    )
    min_active_weeks: NonNegInt = Field(0, examples=[6])
    min_tenure_days: NonNegInt = Field(0, examples=[30])
    min_distinct_members: NonNegInt = Field(0, examples=[3])
    """Peer credits (thanks, accepted answers) in the window must come from this many members."""
    nomination_required: StrictFlag = False
    seats: Annotated[int, Strict(), Field(ge=1)] | None = Field(None, examples=[10])
    benefits: StrictText = Field("", examples=["Early access to releases"])
    commitment: StrictText = Field("", examples=["Help in the forums a few times a month"])
    welcome_message: StrictText = Field("", examples=["Welcome to the Champions!"])
    resources: tuple[HttpLink, ...] = Field((), examples=[["https://example.org/champions"]])

    @property
    def window_weeks(self) -> int:
        """How many (possibly partial) weeks the window spans."""
        return math.ceil(self.window_days / 7)

    @model_validator(mode="after")
    def _active_weeks_fit_window(self) -> Self:
        if self.min_active_weeks > self.window_weeks:
            raise problem(
                f"must be at most {self.window_weeks}, the number of weeks in the "
                f"{self.window_days}-day window (got {self.min_active_weeks})",
                field="min_active_weeks",
            )
        return self


class RecognitionConfig(_Section):
    top_per_category: Annotated[int, Strict(), Field(ge=1, le=10)] = 3
    spotlight_lookback_weeks: PositiveInt = 4
    """Strong contributors for an automatic spotlight are judged over this many weeks."""
    spotlight_cooldown_weeks: NonNegInt = 8
    """Nobody is spotlighted twice within this many weeks."""
    spotlight_min_points: NonNegInt = 10


class NewsletterConfig(_Section):
    top_contributors: Annotated[int, Strict(), Field(ge=1, le=25)] = 5
    upcoming_days: PositiveInt = 30
    chart: StrictFlag = True
    dm_subscribers: StrictFlag = True
    dm_pace_seconds: Annotated[float, Strict(), Field(ge=0, le=60)] = 1.0


class ProgramConfig(_Section):
    """Targets the program health report measures against (from the ambassador playbook)."""

    content_per_member_min: Annotated[float, Strict(), Field(ge=0)] = 2.0
    content_per_member_max: Annotated[float, Strict(), Field(ge=0)] = 4.0
    """Content pieces per tier member per month: the target range."""
    nps_target: Annotated[int, Strict(), Field(ge=-100, le=100)] = 70
    retention_target_percent: Percent = 60
    """Share of tier members still active six months after their promotion."""
    slipping_days: PositiveInt = 14
    """A previously active contributor silent this many days is listed as slipping away."""

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Self:
        if self.content_per_member_max < self.content_per_member_min:
            raise problem(
                f"must be at least content_per_member_min ({self.content_per_member_min}); "
                f"got {self.content_per_member_max}",
                field="content_per_member_max",
            )
        return self


class NpsConfig(_Section):
    enabled: StrictFlag = True
    schedule: Monthly = MonthlyAt(15, dt.time(16, 0))
    """Day of the first month of each quarter on which tier members get the survey by DM."""
    min_responses: Annotated[int, Strict(), Field(ge=5)] = 5
    """Results are shown only with at least this many answers (never fewer than 5)."""
    dm_pace_seconds: Annotated[float, Strict(), Field(ge=0, le=60)] = 1.0


class BuddiesConfig(_Section):
    enabled: StrictFlag = Field(False, examples=[True])
    max_active: PositiveInt = 3
    """No volunteer gets more than this many newcomers at once."""
    credit_after_days: PositiveInt = 30
    """The buddy earns `mentoring` when the newcomer is still here and active after this."""
    intro_channel: Snowflake | None = Field(None, examples=[EXAMPLE_ID])
    """Text channel for private introduction threads; leave it out to introduce by DM."""


class GroupsConfig(_Section):
    create_channels: StrictFlag = False
    category: Snowflake | None = Field(None, examples=[EXAMPLE_ID])
    """Category for new group channels (when create_channels is true)."""
    inactive_days: PositiveInt = 60
    """Leaders of a group with no credited event for this long get a nudge."""


FeedbackArea = Annotated[str, Strict(), AfterValidator(non_blank), Field(max_length=50)]


class FeedbackConfig(_Section):
    forum_channel: Snowflake | None = Field(None, examples=[EXAMPLE_ID])
    """Forum channel where each request becomes a post; leave it out to turn /feedback off."""
    product_role: Snowflake | None = Field(None, examples=[EXAMPLE_ID])
    """Role of the product team: they set statuses, as moderators do."""
    areas: tuple[FeedbackArea, ...] = Field(
        ("General",), min_length=1, max_length=25, examples=[["General", "Mobile app", "API"]]
    )
    """What a request is about: members pick one, /feedback top filters by it (25 at most)."""
    planned_points: NonNegInt = 3
    """Credited (kind `feedback`) to the author when a request is first taken on (Planned or
    In progress); when it ships the author gets `[points] feedback` more."""
    dm_pace_seconds: Annotated[float, Strict(), Field(ge=0, le=60)] = 1.0
    """Seconds between the DMs telling the author and the voters of a status change."""
    programs_channel: Snowflake | None = Field(None, examples=[EXAMPLE_ID])
    """Text channel for beta programs (a private thread of testers each) and user-research
    calls; leave it out to turn /beta and /research off."""

    @property
    def enabled(self) -> bool:
        return self.forum_channel is not None


class PrivacyConfig(_Section):
    retention_days: NonNegInt = Field(0, examples=[365])
    """Purge the data of members who left more than this many days ago (0 keeps it)."""


RITUAL_KEY_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,23}$"


class RitualConfig(_Section):
    key: Annotated[str, Strict(), Field(pattern=RITUAL_KEY_PATTERN)] = Field(examples=["weekly-qa"])
    when: Cadence = Field(examples=["thu 17:00"])
    title: Annotated[str, Strict(), AfterValidator(non_blank), Field(max_length=256)] = Field(
        examples=["Weekly Q&A"]
    )
    text: Annotated[str, Strict(), AfterValidator(non_blank), Field(max_length=4000)] = Field(
        examples=["Ask anything about the product in the thread below."]
    )
    channel: Snowflake | None = Field(None, examples=[EXAMPLE_ID])
    """Defaults to the announcements channel."""
    thread_name: Annotated[str, Strict(), Field(max_length=100)] = Field(
        "", examples=["Q&A {date}"]
    )
    """Open a thread on the post with this name ("{date}" is replaced); empty: no thread."""
    grace_hours: Annotated[int, Strict(), Field(ge=0, le=24 * 28)] = 12
    """A ritual missed while the bot was down is still posted within this many hours."""


class IntegrityConfig(_Section):
    """Against farming and collusion: credit between the same two members is capped."""

    pair_credits_per_week: NonNegInt = 2
    """Peer credits (thanks, accepted answers) one member can give another that count in any
    7 days; more are recorded with 0 points. 0 = no cap."""
    reciprocal_threshold: PositiveInt = 3
    """The weekly note lists pairs and rings whose members each credited the next at least
    this many times in the week."""


class LadderConfig(_Section):
    stack_roles: StrictFlag = False
    low_water_ratio: Annotated[float, Strict(), Field(gt=0, le=1)] = 0.9
    demotion_grace_days: NonNegInt = 30
    min_days_after_promotion: NonNegInt = 30
    at_risk_notice_days: NonNegInt = 7


class WebConfig(_Section):
    """The web pages and the operators' endpoints (``/healthz``, ``/metrics``)."""

    enabled: StrictFlag = False
    """Serve them inside ``python -m bot run``; ``python -m bot web`` serves them on its own."""
    bind: BindAddress = "127.0.0.1:8080"
    """Where to listen, ``host:port``; behind a reverse proxy keep it on 127.0.0.1."""
    public_url: HttpBase | None = Field(None, examples=["https://flywheel.example.org"])
    """The address people reach the pages at, for links the bot posts; none: no links."""
    secret_env: EnvName = "FLYWHEEL_WEB_SECRET"
    """Environment variable holding the key that signs sign-in cookies; unset: a new key is
    made at each start (everyone signs in again after a restart)."""


class Settings(_Section):
    """Everything in the config file (the token is not here; see :class:`Config`).

    Each section's ``examples`` is the short table shown when the section as a whole is wrong.
    """

    discord: DiscordConfig = Field(examples=[{"guild_id": EXAMPLE_ID}])
    database: DatabaseConfig = Field(
        default_factory=DatabaseConfig, examples=[{"url": "sqlite+aiosqlite:///flywheel.db"}]
    )
    logging: LoggingConfig = Field(default_factory=LoggingConfig, examples=[{"level": "INFO"}])
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig, examples=[{"timezone": "UTC"}])
    channels: ChannelsConfig = Field(examples=[{"announcements": EXAMPLE_ID}])
    roles: RolesConfig = Field(default_factory=RolesConfig, examples=[{"moderators": [EXAMPLE_ID]}])
    activity: ActivityConfig = Field(
        default_factory=ActivityConfig, examples=[{"cooldown_seconds": 60}]
    )
    points: PointsConfig = Field(
        default_factory=PointsConfig,
        examples=[{_SAMPLE_KIND.key: _SAMPLE_KIND.default_points}],
    )
    thanks: ThanksConfig = Field(default_factory=ThanksConfig, examples=[{"daily_cap": 5}])
    answers: AnswersConfig = Field(
        default_factory=AnswersConfig, examples=[{"solved_tags": ["Solved"]}]
    )
    events: EventsConfig = Field(default_factory=EventsConfig, examples=[{"min_attendees": 3}])
    referrals: ReferralsConfig = Field(default_factory=ReferralsConfig, examples=[{"min_days": 7}])
    tiers: tuple[TierConfig, ...] = Field(
        (), examples=[[{"key": "champion", "name": "Champion", "role_id": EXAMPLE_ID}]]
    )
    """Lowest tier first; the order is the ladder."""
    ladder: LadderConfig = Field(default_factory=LadderConfig, examples=[{"stack_roles": False}])
    integrity: IntegrityConfig = Field(
        default_factory=IntegrityConfig, examples=[{"pair_credits_per_week": 2}]
    )
    recognition: RecognitionConfig = Field(
        default_factory=RecognitionConfig, examples=[{"top_per_category": 3}]
    )
    newsletter: NewsletterConfig = Field(
        default_factory=NewsletterConfig, examples=[{"top_contributors": 5}]
    )
    rituals: tuple[RitualConfig, ...] = Field(
        (), examples=[[{"key": "weekly-qa", "when": "thu 17:00", "title": "Weekly Q&A"}]]
    )
    program: ProgramConfig = Field(default_factory=ProgramConfig, examples=[{"nps_target": 70}])
    nps: NpsConfig = Field(default_factory=NpsConfig, examples=[{"enabled": True}])
    buddies: BuddiesConfig = Field(default_factory=BuddiesConfig, examples=[{"enabled": False}])
    groups: GroupsConfig = Field(default_factory=GroupsConfig, examples=[{"inactive_days": 60}])
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig, examples=[{"retention_days": 0}])
    feedback: FeedbackConfig = Field(
        default_factory=FeedbackConfig, examples=[{"forum_channel": EXAMPLE_ID}]
    )
    web: WebConfig = Field(default_factory=WebConfig, examples=[{"enabled": True}])
    kinds: KindsOfTheServer = Field(
        default=BUILT_IN,
        examples=[
            [
                {
                    "key": "talk",
                    "label": "Talks given",
                    "noun": "talk",
                    "plural": "talks",
                    "points": 15,
                    "credited": "review",
                }
            ]
        ],
    )
    """Every contribution kind: the built-in ones and the server's own ``[[kinds]]``."""

    @model_validator(mode="before")
    @classmethod
    def _required_sections_report_their_keys(cls, data: Any) -> Any:
        # A missing [discord] or [channels] reports each required key, not just the section.
        if isinstance(data, Mapping):
            return {"discord": {}, "channels": {}, **data}
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _entries_are_distinct(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Tier keys, tier roles and ritual keys are unique, and no tier role is @everyone.

        Checked once, on the input, so a duplicate is reported beside every other problem in
        the file (an "after" validator would not run while anything else is wrong).
        """
        conflicts = _conflicts(data) if isinstance(data, Mapping) else []
        try:
            settings = handler(data)
        except ValidationError as exc:
            if not conflicts:
                raise
            errors = [_rebuilt(error) for error in exc.errors(include_url=False)]
            raise _validation_error(exc.title, [*errors, *conflicts]) from None
        if conflicts:
            raise _validation_error(cls.__name__, conflicts)
        return settings

    @property
    def moderator_role_ids(self) -> frozenset[int]:
        """Roles whose members are moderators (Manage Server also counts, checked elsewhere)."""
        return frozenset(self.roles.moderators)

    @property
    def managed_role_ids(self) -> frozenset[int]:
        """The tier roles, which the bot adds and removes."""
        return frozenset(tier.role_id for tier in self.tiers)

    @property
    def tier_keys(self) -> tuple[str, ...]:
        """Tier keys, lowest first."""
        return tuple(tier.key for tier in self.tiers)

    def tier(self, key: str) -> TierConfig:
        """The tier with ``key``; KeyError if there is none."""
        for tier in self.tiers:
            if tier.key == key:
                return tier
        raise KeyError(f"no tier {key!r}; tiers: {', '.join(self.tier_keys) or '(none)'}")

    def points_for(self, kind: str) -> int:
        """Points for one contribution of ``kind``: ``[points]`` for a built-in kind, its
        ``[[kinds]]`` entry for the server's own; KeyError naming the kinds otherwise."""
        row = self.kinds.kind(kind)
        if row.credit == "feature" and row.configurable:
            value: int = getattr(self.points, kind)
            return value
        return row.default_points

    def tier_index(self, key: str) -> int:
        """Position of tier ``key`` on the ladder (0 = lowest); KeyError if there is none."""
        return self.tier_keys.index(self.tier(key).key)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord gives a server's events to: ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class Config:
    """Validated settings plus the bot token (held as a SecretStr, never shown).

    One deployment serves one or several servers ("communities"): with ``[discord]
    servers_dir`` each server file gives one :class:`Settings` in :attr:`servers`, in file
    order, and ``settings`` is the first of them. The deployment-wide sections (``[database]``,
    ``[logging]``, ``[web]``, ``[discord]`` but ``guild_id``) are refused in a server file, so
    ``settings`` answers for them in every community.
    """

    settings: Settings
    token: SecretStr | None
    source: Path
    servers: tuple[Settings, ...] = ()
    """Every server of a ``servers_dir`` deployment; empty for a config.toml that is the one
    server (read :attr:`communities`, which holds ``settings`` then)."""
    server_files: tuple[Path, ...] = ()
    """The file each of :attr:`servers` was read from, in the same order."""

    @property
    def communities(self) -> tuple[Settings, ...]:
        """Each server's settings, in file order; a single-server config gives ``(settings,)``."""
        return self.servers or (self.settings,)

    def community(self, guild_id: int) -> Settings | None:
        """The settings of server ``guild_id``; None when this deployment does not serve it
        (the caller words it: a CLI names :meth:`listing`, the bot leaves the server alone)."""
        for settings in self.communities:
            if settings.discord.guild_id == guild_id:
                return settings
        return None

    def file_of(self, guild_id: int) -> Path:
        """The file holding server ``guild_id``'s settings (``source`` for a single server)."""
        for settings, path in zip(self.servers, self.server_files, strict=True):
            if settings.discord.guild_id == guild_id:
                return path
        return self.source

    def listing(self) -> str:
        """The configured servers as ``id (file)``, for messages asking to pick one."""
        return ", ".join(
            f"{settings.discord.guild_id} ({self.label_of(settings.discord.guild_id)})"
            for settings in self.communities
        )

    def label_of(self, guild_id: int) -> str:
        """:meth:`file_of` as problems name it: relative to the config file's folder."""
        path = self.file_of(guild_id)
        return (
            str(path.relative_to(self.source.parent))
            if path.is_relative_to(self.source.parent)
            else str(path)
        )

    def by_shard(self, shard_count: int | None = None) -> dict[int, tuple[Settings, ...]]:
        """Every shard (0 to count - 1) and the configured servers Discord gives it.

        ``shard_count`` is the configured one unless given; with ``shard_count = "auto"`` pass
        the count Discord gave at connection. Unsharded: ``{0: communities}``.
        """
        count = shard_count if shard_count is not None else self.settings.discord.shard_count
        if count is None:
            return {0: self.communities}
        if count == "auto":
            raise ValueError('shard_count is "auto": pass the count Discord gave at connection')
        return {
            shard: tuple(
                s for s in self.communities if shard_of(s.discord.guild_id, count) == shard
            )
            for shard in range(count)
        }

    def served(self) -> tuple[Settings, ...]:
        """The configured servers whose shard this process runs (``shard_ids``; all when it is
        not set, which is also how ``auto`` runs)."""
        discord = self.settings.discord
        if discord.shard_ids is None or not isinstance(discord.shard_count, int):
            return self.communities
        mine = frozenset(discord.shard_ids)
        return tuple(
            s for s in self.communities if shard_of(s.discord.guild_id, discord.shard_count) in mine
        )


# --------------------------------------------------------------------------------------------
# Checks across entries (the input may hold tables or already-built models)
# --------------------------------------------------------------------------------------------


def _entries(value: object) -> Sequence[object]:
    return value if isinstance(value, list | tuple) else ()


def _get(entry: object, name: str) -> object:
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None) if isinstance(entry, BaseModel) else None


def _valid_key(value: object, pattern: str) -> str | None:
    """``value`` when it is a well-formed key (a malformed one is reported on its own)."""
    return value if isinstance(value, str) and re.match(pattern, value) else None


def _conflict(loc: tuple[str | int, ...], value: object, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=problem(message), loc=loc, input=value)


def _conflicts(data: Mapping[str, Any]) -> list[InitErrorDetails]:
    """Duplicate tier keys and roles, a tier role that is @everyone, duplicate ritual keys,
    kinds of the server's own that reuse a key, and tier rules counting a kind nobody defines."""
    found, kind_keys = _kind_conflicts(data)
    found.extend(_shard_conflicts(_get(data.get("discord"), "shard_ids"), data.get("discord")))
    guild_id = lenient_snowflake(_get(data.get("discord"), "guild_id"))
    keys: dict[str, int] = {}
    roles: dict[int, int] = {}
    for index, tier in enumerate(_entries(data.get("tiers"))):
        key = _valid_key(_get(tier, "key"), TIER_KEY_PATTERN)
        if key is not None:
            if key in keys:
                message = f"duplicate tier key '{key}' (also tiers[{keys[key]}])"
                found.append(_conflict(("tiers", index, "key"), key, message))
            else:
                keys[key] = index
        role_id = lenient_snowflake(_get(tier, "role_id"))
        if role_id is not None:
            loc = ("tiers", index, "role_id")
            if guild_id is not None and role_id == guild_id:
                message = (
                    "is the @everyone role (it equals discord.guild_id); "
                    "create a separate role for each tier"
                )
                found.append(_conflict(loc, role_id, message))
            elif role_id in roles:
                message = (
                    f"duplicate tier role {role_id} (also tiers[{roles[role_id]}]); "
                    "each tier needs its own role"
                )
                found.append(_conflict(loc, role_id, message))
            else:
                roles[role_id] = index
        counts = _get(tier, "min_counts")
        for kind in counts if isinstance(counts, Mapping) else ():
            if _valid_key(kind, KIND_KEY_PATTERN) is not None and kind not in kind_keys:
                where = ("tiers", index, "min_counts", kind)
                found.append(_conflict(where, kind, _unknown_kind(kind, kind_keys)))
    rituals: dict[str, int] = {}
    for index, ritual in enumerate(_entries(data.get("rituals"))):
        key = _valid_key(_get(ritual, "key"), RITUAL_KEY_PATTERN)
        if key is None:
            continue
        if key in rituals:
            message = f"duplicate ritual key '{key}' (also rituals[{rituals[key]}])"
            found.append(_conflict(("rituals", index, "key"), key, message))
        else:
            rituals[key] = index
    return found


def _shard_conflicts(ids: object, discord: object) -> list[InitErrorDetails]:
    """``shard_ids`` against ``shard_count``: a number of shards to pick from, each id below
    it, none twice, at least one."""
    if ids is None or not isinstance(ids, list | tuple):
        return []  # absent, or a type error reported on its own
    count = _get(discord, "shard_count")
    loc: tuple[str | int, ...] = ("discord", "shard_ids")
    if count is None or count == "auto" or (isinstance(count, str) and count.lower() == "auto"):
        said = "is not set" if count is None else 'is "auto"'
        message = (
            f"needs a number of shards: shard_count {said}, and each process must know the "
            "same count to split the shards between them; set shard_count = 4 (for example) "
            "or leave shard_ids out to run every shard"
        )
        return [_conflict(loc, ids, message)]
    if not ids:
        message = "must list at least one shard; leave shard_ids out to run every shard"
        return [_conflict(loc, ids, message)]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return []  # shard_count's own problem is reported
    found: list[InitErrorDetails] = []
    seen: dict[int, int] = {}
    for index, shard in enumerate(ids):
        if not isinstance(shard, int) or isinstance(shard, bool) or shard < 0:
            continue  # reported by the field's type
        where = (*loc, index)
        if shard >= count:
            message = (
                f"shard {shard} does not exist: with shard_count = {count} the shards are "
                f"0 to {count - 1}"
            )
            found.append(_conflict(where, shard, message))
        elif shard in seen:
            message = f"shard {shard} is listed twice (also shard_ids[{seen[shard]}])"
            found.append(_conflict(where, shard, message))
        else:
            seen[shard] = index
    return found


def _kind_conflicts(data: Mapping[str, Any]) -> tuple[list[InitErrorDetails], list[str]]:
    """Problems with ``[[kinds]]`` keys, and every kind key there is (built-in first)."""
    found: list[InitErrorDetails] = []
    keys = list(BUILT_IN.keys())
    own: dict[str, int] = {}
    for index, entry in enumerate(_entries(data.get("kinds"))):
        key = _valid_key(_get(entry, "key"), KIND_KEY_PATTERN)
        if key is None:
            continue
        loc = ("kinds", index, "key")
        if key in BUILT_IN:
            message = (
                f"'{key}' is a built-in kind; give yours another key "
                f"(built-in: {', '.join(BUILT_IN.keys())})"
            )
            found.append(_conflict(loc, key, message))
        elif key in own:
            message = f"duplicate kind key '{key}' (also kinds[{own[key]}])"
            found.append(_conflict(loc, key, message))
        else:
            own[key] = index
            keys.append(key)
    return found, keys


def _unknown_kind(kind: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(kind, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"unknown contribution kind '{kind}'{hint}; kinds: {', '.join(known)} "
        "(define your own in [[kinds]])"
    )


_PYDANTIC_ERRORS: Final = frozenset(get_args(ErrorType))


def _rebuilt(error: ErrorDetails) -> InitErrorDetails:
    """``error`` as it was raised, so it can be raised again together with the conflicts."""
    context = error.get("ctx")
    if error["type"] in _PYDANTIC_ERRORS:
        rebuilt = InitErrorDetails(type=error["type"], loc=error["loc"], input=error["input"])
        if context is not None:
            rebuilt["ctx"] = context
        return rebuilt
    # Ours (problems.PROBLEM, problems.SNOWFLAKE) carry their text in ctx["message"].
    custom = PydanticCustomError(
        error["type"], "{message}", {"message": error["msg"], **(context or {})}
    )
    return InitErrorDetails(type=custom, loc=error["loc"], input=error["input"])


def _validation_error(title: str, errors: list[InitErrorDetails]) -> ValidationError:
    return ValidationError.from_exception_data(title, errors, hide_input=True)


# --------------------------------------------------------------------------------------------
# Finding the model behind a key path (for examples and messages)
# --------------------------------------------------------------------------------------------


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside a field's type (``TierConfig`` for ``tuple[TierConfig, ...]``;
    ``KindConfig`` for the kind table ``[[kinds]]`` builds)."""
    if annotation is KindTable:
        return KindConfig
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is None:
        return None
    for arg in get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def model_at(parts: Sequence[str | int]) -> type[BaseModel] | None:
    """The model that validates the table at ``parts`` (None if it is not a model)."""
    model: type[BaseModel] = Settings
    for part in parts:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        found = model_in(field.annotation) if field is not None else None
        if found is None:
            return None
        model = found
    return model
