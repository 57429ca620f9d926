"""Reciprocal pairs and rings: found whatever order the ledger lists credits in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.integrity import FINDINGS_SHOWN, Pair, Ring, note, reciprocal_pairs, rings


def test_a_pair_needs_the_threshold_both_ways() -> None:
    edges = [(1, 2, 3), (2, 1, 4), (3, 4, 9), (4, 3, 2), (5, 5, 9)]
    assert reciprocal_pairs(edges, 3) == [Pair(1, 2, 3, 4)]
    assert reciprocal_pairs(edges, 2) == [Pair(3, 4, 9, 2), Pair(1, 2, 3, 4)]


def test_a_ring_of_three_is_found_once() -> None:
    edges = [(7, 8, 3), (8, 9, 4), (9, 7, 5), (8, 7, 1)]
    assert rings(edges, 3) == [Ring((7, 8, 9), (3, 4, 5))]
    assert rings(edges, 4) == []


@given(st.permutations([(10, 20, 3), (20, 30, 3), (30, 10, 3), (20, 10, 3)]))
def test_findings_do_not_depend_on_the_order_of_credits(edges) -> None:
    assert reciprocal_pairs(edges, 3) == [Pair(10, 20, 3, 3)]
    assert rings(edges, 3) == [Ring((10, 20, 30), (3, 3, 3))]


def test_duplicate_edges_add_up() -> None:
    assert reciprocal_pairs([(1, 2, 2), (1, 2, 1), (2, 1, 3)], 3) == [Pair(1, 2, 3, 3)]


def test_the_note_names_members_by_mention_and_is_bounded() -> None:
    assert note([], [], week="1 – 7 Dec 2026", threshold=3) is None
    pairs = [Pair(i, i + 1000, 3, 3) for i in range(FINDINGS_SHOWN + 4)]
    text = note(pairs, [Ring((1, 2, 3), (3, 4, 5))], week="1 – 7 Dec 2026", threshold=3)
    assert text is not None
    lines = text.splitlines()
    assert lines[0].startswith("🔎 **Integrity note** for 1 – 7 Dec 2026")
    assert lines[1] == "• <@0> ⇄ <@1000>: 3 and 3"
    assert len(lines) == 1 + FINDINGS_SHOWN + 1 and lines[-1] == "…and 5 more."
