"""The log filter that keeps the token out of logs, and how command errors are worded."""

import logging

from discord import app_commands

from bot.errors import UserFacingError
from bot.logging_setup import RedactSecrets
from bot.tree import _user_message

TOKEN = "MTIzNDU2.secret-token"


def test_token_is_redacted_from_formatted_log_records():
    record = logging.LogRecord(
        "discord.http", logging.WARNING, __file__, 1, "headers were %s", ({"auth": TOKEN},), None
    )
    assert RedactSecrets([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_records_without_secrets_are_left_alone():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "count=%d", (3,), None)
    RedactSecrets([TOKEN]).filter(record)
    assert (record.msg, record.args) == ("count=%d", (3,))


def test_user_facing_errors_are_shown_verbatim():
    class FakeCommand:
        name = "share"

    error = app_commands.CommandInvokeError(FakeCommand(), UserFacingError("only http(s) links"))
    assert _user_message(error) == "only http(s) links"


def test_permission_errors_are_explained():
    assert _user_message(app_commands.MissingPermissions(["manage_guild"])) == (
        "Only moderators can use this command."
    )
    assert "manage roles" in _user_message(app_commands.BotMissingPermissions(["manage_roles"]))


def test_unexpected_errors_get_no_user_message():
    class FakeCommand:
        name = "profile"

    error = app_commands.CommandInvokeError(FakeCommand(), KeyError("boom"))
    assert _user_message(error) is None
