"""Points from another bot: MEE6 leaderboard pages and plain CSV files, read and checked.

Pure: files come in as text, rows and problems go out. Every problem names its file and line
(for JSON, the player's place in ``players``) so an operator fixes the file in one go; the
service writes nothing while any problem is left.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "DEFAULT_POINTS_PER_XP",
    "MAX_POINTS",
    "ImportRow",
    "Problem",
    "merge",
    "parse_csv",
    "parse_mee6",
    "points_per_xp",
]

#: MEE6 gives 15 to 25 XP a minute of chatting; Flywheel gives 1 point an active day and 10 an
#: accepted answer. A hundredth keeps a long-time regular (100,000 XP) at about 1,000 points,
#: a Champion's worth, without outranking the ladder's top tier by chat alone.
DEFAULT_POINTS_PER_XP = Decimal("0.01")
#: Discord ids are snowflakes: positive, below 2**64.
_MAX_ID = 2**64
#: One member's imported points at most: far above any real score, and it keeps every ledger
#: sum inside the store's integer column (PostgreSQL's ``integer`` stops at 2**31 - 1).
MAX_POINTS = 100_000_000
#: ASCII digits only: ``str.isdigit`` also takes "²", which ``int`` refuses.
_DIGITS = re.compile(r"[0-9]+")
#: What a spreadsheet makes of an 18-digit id: ``3.00E+17``, ``300000000000000000.0``,
#: ``300,000,000,000,000,000``.
_SPREADSHEET_NUMBER = re.compile(
    r"[0-9]+(\.[0-9]*)?[eE][+]?[0-9]+|[0-9]+\.[0-9]*|[0-9]{1,3}(,[0-9]{3})+"
)
#: Digits a count may have: far past any real count, and well inside what ``int`` reads from
#: text (4,300 digits; more raises ValueError).
_MAX_DIGITS = 18
#: How much of a bad value a problem quotes: enough to find it, never the whole of a huge cell.
_QUOTED = 40
CSV_COLUMNS = ("user_id", "points", "messages", "note")
NOTE_MAX = 200


@dataclass(frozen=True)
class ImportRow:
    user_id: int
    points: int
    messages: int | None
    note: str
    #: ``file:line`` (or ``file:players[3]``), for messages about this row.
    where: str


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def points_per_xp(raw: str) -> Decimal:
    """``--points-per-xp``: a positive decimal; ValueError saying what is wrong."""
    try:
        factor = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"--points-per-xp must be a number like 0.01 (got {raw!r})") from None
    if not factor.is_finite() or factor <= 0:
        raise ValueError(f"--points-per-xp must be more than 0 (got {raw!r})")
    return factor


def _snowflake(value: Any) -> int | None:
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if not _DIGITS.fullmatch(text) or len(text) > 20:
        return None
    number = int(text)
    return number if 0 < number < _MAX_ID else None


def _count(value: Any) -> int | None:
    """A whole number of 0 or more (JSON number or text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.fullmatch(text) and len(text) <= _MAX_DIGITS:
            return int(text)
    return None


def _quoted(value: Any) -> str:
    """``repr`` of a bad value, cut short: a problem must stay readable for a 5,000-digit cell."""
    text = repr(value)
    return text if len(text) <= _QUOTED else f"{text[:_QUOTED]}… ({len(text):,} characters)"


def _not_a_count(field: str, value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if _DIGITS.fullmatch(text):
        return f"{field} has {len(text):,} digits, more than any count ({_MAX_DIGITS} at most)"
    return f"{field} must be a whole number of 0 or more (got {_quoted(value)})"


def _id_hint(value: str) -> str:
    """Why a spreadsheet's id is not an id: it turned the column into a number."""
    if _SPREADSHEET_NUMBER.fullmatch(value):
        return " (a spreadsheet rounds long ids: format the column as text and export again)"
    return ""


def _too_many(points: int) -> str | None:
    return _too_many_text(str(points)) if points > MAX_POINTS else None


def _too_many_text(points: str) -> str:
    return f"{points} points is more than the {MAX_POINTS:,} one member can be given"


def _guild(value: Any) -> int | None:
    return _snowflake(value) if value is not None else None


def parse_mee6(
    name: str, text: str, factor: Decimal, *, guild_id: int | None = None
) -> tuple[list[ImportRow], list[Problem]]:
    """A saved page of MEE6's public leaderboard API: ``{"players": [{"id", "xp", ...}]}``.

    Points are ``xp × factor`` rounded half up; ``message_count`` is kept as messages. With
    ``guild_id``, a page (``guild.id``) or player (``guild_id``) of another server is refused:
    MEE6 pages name their server, and another server's leaderboard is an easy file to mix up.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(f"{name}:{exc.lineno}", f"not valid JSON ({exc.msg})")]
    except ValueError as exc:  # a number longer than ``int`` reads (4,300 digits)
        return [], [Problem(name, f"not valid JSON for a leaderboard ({str(exc)[:80]})")]
    except RecursionError:
        return [], [Problem(name, "not valid JSON for a leaderboard (nested too deep to read)")]
    players = data.get("players") if isinstance(data, dict) else None
    if not isinstance(players, list):
        return [], [Problem(name, 'not a MEE6 leaderboard page: no "players" list')]
    assert isinstance(data, dict)
    guild = data.get("guild")
    page_guild = _guild(guild.get("id")) if isinstance(guild, dict) else None
    if guild_id is not None and page_guild is not None and page_guild != guild_id:
        return [], [Problem(name, _other_server(page_guild, guild_id))]
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    for index, player in enumerate(players):
        where = f"{name}:players[{index}]"
        if not isinstance(player, dict):
            problems.append(Problem(where, "a player must be an object"))
            continue
        user_id = _snowflake(player.get("id"))
        xp = _count(player.get("xp"))
        messages = player.get("message_count")
        count = None if messages is None else _count(messages)
        if user_id is None:
            problems.append(
                Problem(where, f"id must be a Discord user id (got {_quoted(player.get('id'))})")
            )
        if xp is None:
            problems.append(Problem(where, _not_a_count("xp", player.get("xp"))))
        if messages is not None and count is None:
            problems.append(Problem(where, _not_a_count("message_count", messages)))
        player_guild = _guild(player.get("guild_id"))
        if guild_id is not None and player_guild is not None and player_guild != guild_id:
            problems.append(Problem(where, _other_server(player_guild, guild_id)))
            continue
        if user_id is None or xp is None or (messages is not None and count is None):
            continue
        points, too_many = _scaled(xp, factor, "XP ")
        if too_many:
            problems.append(Problem(where, too_many))
            continue
        level = player.get("level")
        note = f"MEE6: {xp} XP" + (f", level {level}" if isinstance(level, int) else "")
        rows.append(ImportRow(user_id, points, count, note, where))
    return rows, problems


def _scaled(value: int, factor: Decimal, unit: str) -> tuple[int, str | None]:
    """``value × factor`` rounded half up, or a problem when it is more than a member can hold."""
    # Compared before rounding: quantizing past the context's 28 digits raises.
    exact = Decimal(value) * factor
    if exact >= MAX_POINTS + 1:
        shown = f"{exact:.0f}" if exact.adjusted() < _MAX_DIGITS else "more than 10**18"
        return 0, f"{_too_many_text(shown)} ({value} {unit}× {factor})"
    points = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    too_many = _too_many(points)
    return points, (f"{too_many} ({value} {unit}× {factor})" if too_many else None)


def parse_csv(
    name: str, text: str, factor: Decimal = Decimal(1)
) -> tuple[list[ImportRow], list[Problem]]:
    """``user_id,points[,messages][,note]`` with a header row; points × ``factor`` rounded half
    up (1: taken as Flywheel points; less, when the column holds another bot's XP)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [column.strip().lower() for column in reader.fieldnames or []]
    except csv.Error as exc:
        return [], [Problem(f"{name}:{reader.line_num}", f"not a CSV line ({exc})")]
    missing = [column for column in ("user_id", "points") if column not in header]
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        return [], [
            Problem(f"{name}:1", "; ".join(parts) + f"; the header is {','.join(CSV_COLUMNS)}")
        ]
    twice = sorted({column for column in header if header.count(column) > 1})
    if twice:
        return [], [Problem(f"{name}:1", f"column(s) {', '.join(twice)} named twice")]
    reader.fieldnames = header
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    for record in _records(reader, name, problems):
        where = f"{name}:{reader.line_num}"
        if None in record:
            problems.append(Problem(where, "more fields than the header has"))
            continue
        values = {key: (value or "").strip() for key, value in record.items()}
        if not any(values.values()):
            continue  # a blank line
        user_id = _snowflake(values["user_id"])
        points = values["points"]
        messages = values.get("messages", "")
        note = values.get("note", "")
        bad: list[str] = []
        if user_id is None:
            bad.append(
                f"user_id must be a Discord user id (got {_quoted(values['user_id'])})"
                + _id_hint(values["user_id"])
            )
        scaled = 0
        if _count(points) is None:
            bad.append(_not_a_count("points", points))
        else:
            scaled, too_many = _scaled(int(points), factor, "")
            if too_many:  # points taken as they are need no sum to explain them
                bad.append(too_many if factor != 1 else _too_many_text(str(int(points))))
        if messages and _count(messages) is None:
            bad.append(_not_a_count("messages", messages))
        if len(note) > NOTE_MAX:
            bad.append(f"note must be at most {NOTE_MAX} characters (it has {len(note)})")
        if bad:
            problems.extend(Problem(where, message) for message in bad)
            continue
        assert user_id is not None
        count = _count(messages) if messages else None
        rows.append(ImportRow(user_id, scaled, count, note, where))
    return rows, problems


def _records(
    reader: csv.DictReader[str], name: str, problems: list[Problem]
) -> Iterator[dict[str | Any, str | Any]]:
    """The reader's records; a line the csv module cannot read (a field past its size limit)
    is a problem that ends the file: where the next record starts is no longer known."""
    try:
        yield from reader
    except csv.Error as exc:
        problems.append(Problem(f"{name}:{reader.line_num + 1}", f"not a CSV line ({exc})"))


def _other_server(found: int, configured: int) -> str:
    return (
        f"this is server {found}'s leaderboard, not this server's ({configured}, "
        "discord.guild_id): save the pages of this server's leaderboard"
    )


def merge(rows: Iterable[ImportRow]) -> tuple[list[ImportRow], list[Problem]]:
    """One row per member: the same member on two pages with the same points is one row; with
    different points it is a problem naming both places (which is right is the operator's
    call, not ours)."""
    first: dict[int, ImportRow] = {}
    problems: list[Problem] = []
    for row in rows:
        seen = first.get(row.user_id)
        if seen is None:
            first[row.user_id] = row
        elif seen.points != row.points:
            problems.append(
                Problem(
                    row.where,
                    f"user {row.user_id} has {row.points} points here but {seen.points} at "
                    f"{seen.where}",
                )
            )
    return list(first.values()), problems
