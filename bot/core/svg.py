"""Accessible SVG charts, drawn as text on the server: no JavaScript, no CDN, no build step.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``,
which states the numbers in words, so a screen reader gets what the picture shows. Colours are
picked for contrast on a white page; text uses the page's font. Missing values (``None``) are
left as gaps, never drawn as zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 48
#: Dark enough for 4.5:1 contrast on white (WCAG AA), and apart from each other in hue.
PALETTE = ("#3347b0", "#b3261e", "#1e6b3a", "#6b3fa0")
TARGET_COLOUR = "#5c5c5c"
AXIS_COLOUR = "#595959"
GRID_COLOUR = "#e0e0e0"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _nice_max(peak: float) -> float:
    """A round top for the y axis at or above ``peak`` (1, 2, 2.5 or 5 times a power of ten)."""
    if peak <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= peak:
        step *= 10
    while step > peak:
        step /= 10
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= peak:
            return step * factor
    return step * 10  # pragma: no cover - the loop always returns


def _frame(
    ident: str, title: str, desc: str, body: list[str], top: float, unit: str, target_line: str
) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    grid: list[str] = []
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        grid.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(value))}'
            f"{escape(unit)}</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="chart" font-size="12" '
        f'font-family="system-ui, sans-serif" fill="{AXIS_COLOUR}">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
        + "".join(grid)
        + f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="{AXIS_COLOUR}"/>'
        + "".join(body)
        + target_line
        + "</svg>"
    )


def _describe(labels: Sequence[str], series: Sequence[Series], unit: str) -> str:
    parts = []
    for one in series:
        points = ", ".join(
            f"{label}: {'no data' if value is None else _fmt(value) + unit}"
            for label, value in zip(labels, one.values, strict=True)
        )
        parts.append(f"{one.name}: {points}." if points else f"{one.name}: no data.")
    return " ".join(parts)


def _target(target: float | None, top: float, unit: str) -> tuple[str, str]:
    if target is None:
        return "", ""
    plot_h = HEIGHT - TOP - BOTTOM
    y = TOP + plot_h - plot_h * min(target, top) / top
    line = (
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
        f'stroke="{TARGET_COLOUR}" stroke-dasharray="6 4" stroke-width="1.5"/>'
        f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" text-anchor="end">target '
        f"{escape(_fmt(target))}{escape(unit)}</text>"
    )
    return line, f" Target: {_fmt(target)}{unit}."


def _x_labels(labels: Sequence[str], centre: list[float]) -> list[str]:
    y = HEIGHT - BOTTOM + 18
    return [
        f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{escape(label)}</text>'
        for label, x in zip(labels, centre, strict=True)
    ]


def _legend(series: Sequence[Series]) -> list[str]:
    y = HEIGHT - 10
    out = []
    for index, one in enumerate(series):
        x = LEFT + index * 180
        colour = PALETTE[index % len(PALETTE)]
        out.append(
            f'<rect x="{x}" y="{y - 9}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 18}" y="{y + 1}">{escape(one.name)}</text>'
        )
    return out


def _top(series: Sequence[Series], target: float | None) -> float:
    values = [v for one in series for v in one.values if v is not None]
    return _nice_max(max([*values, target or 0, 0]))


def _plot_area(
    labels: Sequence[str], series: Sequence[Series], target: float | None
) -> tuple[float, float, float, int]:
    """The value at the top of the axis, the plot's width and height, and the label slots;
    ValueError if a series does not have one value per label."""
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values, not {len(labels)}")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    return _top(series, target), plot_w, plot_h, max(len(labels), 1)


def line_chart(
    ident: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    target: float | None = None,
) -> str:
    """One line per series over ``labels`` (oldest first); a gap where a value is None."""
    top, plot_w, plot_h, count = _plot_area(labels, series, target)
    xs = [LEFT + plot_w * (i + 0.5) / count for i in range(len(labels))]
    body = _x_labels(labels, xs)
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        run: list[str] = []
        runs: list[list[str]] = []
        for x, value in zip(xs, one.values, strict=True):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            y = TOP + plot_h - plot_h * value / top
            run.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        if run:
            runs.append(run)
        body.extend(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="2"/>'
            for points in runs
        )
    body.extend(_legend(series))
    target_line, target_words = _target(target, top, unit)
    desc = _describe(labels, series, unit) + target_words
    return _frame(ident, title, desc, body, top, unit, target_line)


def bar_chart(
    ident: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    target: float | None = None,
) -> str:
    """Grouped bars: for each label, one bar per series; a missing value draws no bar."""
    top, plot_w, plot_h, count = _plot_area(labels, series, target)
    slot = plot_w / count
    bar = slot * 0.7 / max(len(series), 1)
    centres = [LEFT + slot * (i + 0.5) for i in range(len(labels))]
    body = _x_labels(labels, centres)
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        for slot_index, value in enumerate(one.values):
            if value is None:
                continue
            height = plot_h * max(value, 0) / top
            x = LEFT + slot * slot_index + slot * 0.15 + bar * index
            y = TOP + plot_h - height
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{escape(one.name)}, {escape(labels[slot_index])}: '
                f"{escape(_fmt(value))}{escape(unit)}</title></rect>"
            )
    if len(series) > 1:
        body.extend(_legend(series))
    target_line, target_words = _target(target, top, unit)
    desc = _describe(labels, series, unit) + target_words
    return _frame(ident, title, desc, body, top, unit, target_line)
