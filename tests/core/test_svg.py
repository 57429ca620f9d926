"""The server-drawn charts: well-formed SVG, named and described for screen readers, gaps kept."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.core.svg import Series, bar_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_a_line_chart_names_and_describes_its_numbers():
    svg = line_chart(
        "weeks",
        "Active members <per week>",
        ["W1", "W2", "W3"],
        [Series("active", [3, 5, 8]), Series("contributors", [1, None, 2])],
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "weeks-title weeks-desc"
    assert root.find(f"{NS}title").text == "Active members <per week>"
    desc = root.find(f"{NS}desc").text
    assert "active: W1: 3, W2: 5, W3: 8." in desc
    assert "contributors: W1: 1, W2: no data, W3: 2." in desc
    # the gap splits the contributors' line in two single points, never drawn through zero
    lines = root.findall(f"{NS}polyline")
    assert len(lines) == 3
    assert len(root.findall(f"{NS}circle")) == 5


def test_a_bar_chart_draws_a_bar_per_value_and_the_target():
    svg = bar_chart(
        "cohorts", "Cohort retention", ["Jan", "Feb"], [Series("retained", [40.0, None])],
        unit="%", target=50,
    )  # fmt: skip
    root = parse(svg)
    bars = [r for r in root.iter(f"{NS}rect")]
    assert [bar.find(f"{NS}title").text for bar in bars] == ["retained, Jan: 40%"]
    assert "Target: 50%." in root.find(f"{NS}desc").text
    assert any(t.text and t.text.startswith("target 50") for t in root.iter(f"{NS}text"))


def test_text_is_escaped_and_nothing_scripts():
    svg = bar_chart("x", '<script>alert("x")</script>', ["<b>"], [Series("s&p", [1])])
    assert "<script>" not in svg
    root = parse(svg)
    assert root.find(f"{NS}title").text == '<script>alert("x")</script>'


def test_empty_and_zero_charts_still_draw():
    parse(line_chart("e", "Empty", [], [Series("none", [])]))
    root = parse(bar_chart("z", "Zeros", ["a"], [Series("s", [0])]))
    assert root.find(f"{NS}desc").text == "s: a: 0."


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="has 1 values, not 2"):
        line_chart("w", "Wrong", ["a", "b"], [Series("s", [1])])
