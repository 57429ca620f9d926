"""The newsletter chart renders a PNG for any month, busy or silent."""

import struct
import threading
from datetime import date, timedelta

import pytest

from bot.charts import daily_activity_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def month(first: date, days: int, counts: list[int] | None = None) -> list[tuple[date, int]]:
    values = counts if counts is not None else [(i * 7) % 23 for i in range(days)]
    return [(first + timedelta(days=i), values[i]) for i in range(days)]


def size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize(
    "days",
    [
        month(date(2026, 10, 1), 31),
        month(date(2026, 2, 1), 28),
        month(date(2026, 10, 1), 31, [0] * 31),
        month(date(2026, 10, 1), 1, [5]),
        [],
    ],
    ids=["31-days", "28-days", "all-zero", "one-day", "empty"],
)
def test_renders_a_png(days: list[tuple[date, int]]) -> None:
    png = daily_activity_png(days, title="Messages per day · October 2026")
    assert png.startswith(PNG_SIGNATURE)
    assert size(png) == (800, 300)


def test_renders_from_several_threads_at_once() -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            results.append(daily_activity_png(month(date(2026, 10, 1), 31), title="T"))
        except BaseException as error:  # pragma: no cover - only on failure
            errors.append(error)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 4
    assert all(png.startswith(PNG_SIGNATURE) for png in results)
