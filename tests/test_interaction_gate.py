"""The interaction gate's memory of interactions, and its routing kept in step with discord.py."""

from __future__ import annotations

import inspect

from discord.state import ConnectionState

from bot import interaction_gate
from bot.interaction_gate import Replays


def test_an_interaction_is_new_once_then_a_replay() -> None:
    replays = Replays()
    assert replays.seen_before(1) is False
    assert replays.seen_before(2) is False
    assert replays.seen_before(1) is True


def test_ids_are_forgotten_after_the_token_lifetime_and_past_the_bound() -> None:
    now = [0.0]
    replays = Replays(keep=900, limit=3, now=lambda: now[0])
    replays.seen_before(1)
    now[0] = 899
    assert replays.seen_before(1) is True
    now[0] = 901
    assert replays.seen_before(1) is False, "older than a token can live: forgotten"
    for n in (2, 3, 4):
        replays.seen_before(n)
    assert len(replays._seen) == 3
    assert replays.seen_before(1) is False, "the oldest made room"


def test_the_gate_routes_interactions_as_discord_py_does() -> None:
    """The gate replaces discord.py's INTERACTION_CREATE parser: an upgrade that routes
    differently must be mirrored in ``interaction_gate._route``."""
    theirs = inspect.getsource(ConnectionState.parse_interaction_create)
    for call in (
        "self._command_tree._from_interaction(interaction)",
        "self._view_store.dispatch_view(component_type, custom_id, interaction)",
        "self._view_store.dispatch_modal(custom_id, interaction, components, resolved)",
        "self.dispatch('interaction', interaction)",
        "data['type'] in (2, 4)",
    ):
        assert call in theirs, call
    assert theirs.count("self.") == 5
    ours = inspect.getsource(interaction_gate._route)
    assert "_from_interaction" in ours and "dispatch_modal" in ours
