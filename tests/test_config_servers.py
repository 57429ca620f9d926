"""Several servers in one deployment (``[discord] servers_dir``) and the shard settings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.cli import one_server
from bot.config import Config, ConfigError, load_config, load_offline_config, parse_config
from bot.config.schema import shard_of
from bot.config.summary import summarize
from tests.helpers import minimal_config, to_toml, write_config
from tests.test_cli import flywheel

TOKEN = "test-token-Zm9vYmFy.never-print-me"
ENV = {"DISCORD_TOKEN": TOKEN}
ACME = 111111111111111111
BETA = 555555555555555555


def channels(base: int) -> dict[str, int]:
    return {"announcements": base + 1, "review": base + 2, "mod_log": base + 3}


def server(guild_id: int, **sections: Any) -> dict[str, Any]:
    """A server file: its guild, its channels, and ``sections`` of its own."""
    return {"discord": {"guild_id": guild_id}, "channels": channels(guild_id), **sections}


def deployment(tmp_path: Path, files: dict[str, dict[str, Any] | str], **sections: Any) -> Path:
    """config.toml naming ``servers/`` and the server files in it; returns config.toml."""
    folder = tmp_path / "servers"
    folder.mkdir(exist_ok=True)
    for name, body in files.items():
        (folder / name).write_text(
            body if isinstance(body, str) else to_toml(body), encoding="utf-8"
        )
    discord = {"servers_dir": "servers", **sections.pop("discord", {})}
    data = {"discord": discord, "database": {"url": "sqlite+aiosqlite:///x.db"}, **sections}
    return write_config(tmp_path / "config.toml", data)


def problems(path: Path, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV, **kwargs)
    found = {problem.key: problem.message for problem in caught.value.problems}
    assert len(found) == len(caught.value.problems), str(caught.value)
    return found


# --- one file, as before ------------------------------------------------------------------------


def test_a_single_config_file_is_the_one_community() -> None:
    config = parse_config(minimal_config(), env=ENV)
    assert config.servers == () and config.communities == (config.settings,)
    assert config.community(ACME) is config.settings
    assert config.community(BETA) is None
    assert config.served() == config.communities
    assert config.by_shard() == {0: config.communities}


# --- a folder of server files -------------------------------------------------------------------


def test_each_server_file_is_laid_over_config_toml(tmp_path: Path) -> None:
    path = deployment(
        tmp_path,
        {
            # read by file name: beta.toml after acme.toml whatever the guild ids
            "beta.toml": server(ACME, points={"content": 3}),
            "acme.toml": server(BETA, schedule={"timezone": "Europe/Berlin"}),
        },
        points={"answer": 20, "content": 12},
        schedule={"timezone": "America/New_York", "catch_up_grace_days": 5},
        discord={"sync_commands": False},
    )
    config = load_config(path, env=ENV)

    first, second = config.communities
    assert [s.discord.guild_id for s in config.communities] == [BETA, ACME]
    assert config.settings is first
    assert config.server_files == (tmp_path / "servers/acme.toml", tmp_path / "servers/beta.toml")
    # a section of the server's own replaces config.toml's whole section…
    assert first.schedule.timezone == "Europe/Berlin" and first.schedule.catch_up_grace_days == 3
    assert (second.points.content, second.points.answer) == (3, 10)
    # …and a section it leaves out is config.toml's
    assert second.schedule.timezone == "America/New_York"
    assert (first.points.content, first.points.answer) == (12, 20)
    # [discord] merges key by key; the deployment's settings are the same in every server
    for settings in config.communities:
        assert settings.discord.sync_commands is False
        assert settings.database.url == "sqlite+aiosqlite:///x.db"
    assert config.community(ACME) is second
    assert config.community(ACME + 1) is None
    assert config.listing() == f"{BETA} (servers/acme.toml), {ACME} (servers/beta.toml)"


def test_deployment_settings_in_a_server_file_are_refused_naming_file_and_key(
    tmp_path: Path,
) -> None:
    sneaky = server(
        BETA,
        database={"url": "sqlite+aiosqlite:///other.db"},
        logging={"level": "DEBUG"},
        web={"enabled": True},
    )
    sneaky["discord"].update(token_env="OTHER_TOKEN", shard_count=2)
    path = deployment(tmp_path, {"acme.toml": server(ACME), "beta.toml": sneaky})

    found = problems(path)

    assert set(found) == {
        f"servers/beta.toml: {key}"
        for key in ("database", "logging", "web", "discord.token_env", "discord.shard_count")
    }
    assert all("set it in config.toml" in message for message in found.values())


def test_each_problem_names_the_file_that_must_change(tmp_path: Path) -> None:
    no_mod_log = server(BETA)
    del no_mod_log["channels"]["mod_log"]
    path = deployment(
        tmp_path,
        {
            "acme.toml": server(ACME, activity={"cooldown_seconds": -1}),
            "beta.toml": no_mod_log,
            "gamma.toml": {"channels": channels(7)},
        },
        thanks={"daily_cap": 0},  # inherited by all three: config.toml's to fix, said once
    )

    found = problems(path)

    assert set(found) == {
        "servers/acme.toml: activity.cooldown_seconds",
        "servers/beta.toml: channels.mod_log",
        "servers/gamma.toml: discord.guild_id",
        "thanks.daily_cap",
    }


def test_two_files_for_one_server(tmp_path: Path) -> None:
    path = deployment(tmp_path, {"a.toml": server(ACME), "b.toml": server(ACME)})
    found = problems(path)
    assert list(found) == ["servers/b.toml: discord.guild_id"]
    assert "servers/a.toml" in found["servers/b.toml: discord.guild_id"]


def test_a_role_or_channel_named_by_two_servers_is_refused(tmp_path: Path) -> None:
    tiers = [{"key": "pro", "name": "Pro", "role_id": 77}]
    path = deployment(
        tmp_path,
        {
            "a.toml": server(ACME),
            "b.toml": {**server(BETA), "channels": {**channels(BETA), "review": ACME + 2}},
        },
        tiers=tiers,
    )
    found = problems(path)
    assert set(found) == {"servers/b.toml: channels.review", "servers/b.toml: tiers[0].role_id"}
    assert "tiers[0].role_id of servers/a.toml" in found["servers/b.toml: tiers[0].role_id"]
    assert "config.toml's [tiers]" in found["servers/b.toml: tiers[0].role_id"]
    assert "config.toml" not in found["servers/b.toml: channels.review"]

    (tmp_path / "servers/b.toml").write_text(
        to_toml(server(BETA, tiers=[{"key": "pro", "name": "Pro", "role_id": 78}])),
        encoding="utf-8",
    )
    config = load_config(path, env=ENV)
    assert [s.tiers[0].role_id for s in config.communities] == [77, 78]


def test_a_server_file_with_bad_toml_is_named_with_its_line(tmp_path: Path) -> None:
    bad = "guild_id = 5\n\n[channels\nannouncements = 1\n"
    path = deployment(tmp_path, {"acme.toml": server(ACME), "bad.toml": bad})
    found = problems(path)
    assert list(found) == ["servers/bad.toml"]
    assert "line 3" in found["servers/bad.toml"]


def test_guild_id_in_config_toml_beside_servers_dir_is_refused(tmp_path: Path) -> None:
    path = deployment(tmp_path, {"acme.toml": server(ACME)}, discord={"guild_id": BETA})
    assert list(problems(path)) == ["discord.guild_id"]


@pytest.mark.parametrize("make", ["empty", "missing", "file"])
def test_no_server_files_is_a_problem_with_its_fix(tmp_path: Path, make: str) -> None:
    path = deployment(tmp_path, {}, database={"url": "mysql://nope"})
    folder = tmp_path / "servers"
    if make != "empty":
        folder.rmdir()
    if make == "file":
        folder.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    by_key = {problem.key: problem for problem in caught.value.problems}
    # config.toml's own settings are still checked
    assert set(by_key) == {"discord.servers_dir", "database.url"}
    assert "servers/acme.toml" in by_key["discord.servers_dir"].example


def test_offline_commands_read_every_server_and_db_commands_none(tmp_path: Path) -> None:
    path = deployment(tmp_path, {"a.toml": server(ACME), "b.toml": {"channels": channels(9)}})
    with pytest.raises(ConfigError) as caught:
        load_offline_config(path, ("database",))
    assert [p.key for p in caught.value.problems] == ["servers/b.toml: discord.guild_id"]

    (tmp_path / "servers/b.toml").write_text(to_toml(server(BETA)), encoding="utf-8")
    config = load_offline_config(path, ("database",))
    assert [s.discord.guild_id for s in config.communities] == [ACME, BETA]

    for name in ("a.toml", "b.toml"):
        (tmp_path / "servers" / name).unlink()
    alone = load_offline_config(path, ("database",), servers=False)
    assert alone.settings.database.url == "sqlite+aiosqlite:///x.db"


# --- shards -------------------------------------------------------------------------------------


def shards_config(**discord: Any) -> dict[str, Any]:
    return minimal_config(discord={"guild_id": ACME, **discord})


@pytest.mark.parametrize(
    ("discord", "key", "said"),
    [
        ({"shard_count": 0}, "discord.shard_count", "from 1 up"),
        ({"shard_count": "many"}, "discord.shard_count", '"auto"'),
        ({"shard_count": True}, "discord.shard_count", "from 1 up"),
        ({"shard_ids": [0]}, "discord.shard_ids", "shard_count is not set"),
        ({"shard_count": "auto", "shard_ids": [0]}, "discord.shard_ids", 'is "auto"'),
        ({"shard_count": 2, "shard_ids": []}, "discord.shard_ids", "at least one"),
        ({"shard_count": 2, "shard_ids": [0, 2]}, "discord.shard_ids[1]", "0 to 1"),
        ({"shard_count": 2, "shard_ids": [1, 1]}, "discord.shard_ids[1]", "listed twice"),
        ({"shard_count": 2, "shard_ids": [-1]}, "discord.shard_ids[0]", "0 or more"),
    ],
)
def test_bad_shard_settings(discord: dict[str, Any], key: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(shards_config(**discord), env=ENV)
    [problem] = caught.value.problems
    assert problem.key == key and said in problem.message, str(problem)
    assert problem.example.startswith(key.split(".")[1].split("[")[0] + " = ")


def test_shard_ids_are_checked_beside_other_problems() -> None:
    data = shards_config(shard_count=2, shard_ids=[5])
    del data["discord"]["guild_id"]
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env=ENV)
    assert {p.key for p in caught.value.problems} == {"discord.guild_id", "discord.shard_ids[0]"}


def test_servers_dir_must_be_a_folder_path() -> None:
    [problem] = problems_of_data(minimal_config(discord={"servers_dir": ""}))
    assert problem.key == "discord.servers_dir" and "this file the one server" in problem.message


def problems_of_data(data: dict[str, Any]) -> tuple[Any, ...]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env=ENV)
    return caught.value.problems


def test_shard_settings_that_are_valid() -> None:
    auto = parse_config(shards_config(shard_count="AUTO"), env=ENV).settings.discord
    assert (auto.shard_count, auto.shard_ids) == ("auto", None)
    fixed = parse_config(shards_config(shard_count=3, shard_ids=[2, 0]), env=ENV)
    assert (fixed.settings.discord.shard_count, fixed.settings.discord.shard_ids) == (3, (2, 0))


def guild_on(shard: int, count: int, n: int) -> int:
    """A guild id whose shard is ``shard`` of ``count``: Discord's rule reads bits 22 and up."""
    return ((count * n + shard) << 22) | 4321


def test_servers_map_to_shards_by_discord_s_rule(tmp_path: Path) -> None:
    guilds = {
        name: guild_on(shard, 4, n)
        for n, (name, shard) in enumerate([("a", 0), ("b", 3), ("c", 3), ("d", 1)])
    }
    files = {f"{name}.toml": server(guild_id) for name, guild_id in guilds.items()}
    path = deployment(tmp_path, files, discord={"shard_count": 4, "shard_ids": [3, 2]})
    config = load_config(path, env=ENV)

    ids = {
        shard: [s.discord.guild_id for s in servers] for shard, servers in config.by_shard().items()
    }
    assert ids == {0: [guilds["a"]], 1: [guilds["d"]], 2: [], 3: [guilds["b"], guilds["c"]]}
    assert [s.discord.guild_id for s in config.served()] == [guilds["b"], guilds["c"]]
    # another count (say Discord's, for "auto") maps the same servers anew
    assert sum(len(servers) for servers in config.by_shard(3).values()) == 4


def test_auto_shards_serve_every_server_and_need_the_count_to_map() -> None:
    config = parse_config(shards_config(shard_count="auto"), env=ENV)
    assert config.served() == config.communities
    with pytest.raises(ValueError, match="auto"):
        config.by_shard()
    assert config.by_shard(1) == {0: config.communities}


# --- check-config and a command on one server ---------------------------------------------------


def two_servers(tmp_path: Path, **discord: Any) -> Path:
    return deployment(
        tmp_path,
        {
            "acme.toml": server(ACME, schedule={"timezone": "Europe/Berlin"}),
            "beta.toml": server(BETA, tiers=[{"key": "pro", "name": "Pro", "role_id": 77}]),
        },
        discord=discord,
    )


def test_check_config_summarises_each_server_after_the_deployment(tmp_path: Path) -> None:
    shard = shard_of(ACME, 2)
    path = two_servers(tmp_path, shard_count=2, shard_ids=[shard])
    result = flywheel("check-config", "--config", str(path), env=ENV)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    deployment_part, acme, beta = out.split("\n\nServer ")
    serving = sum(shard_of(guild_id, 2) == shard for guild_id in (ACME, BETA))
    assert f"Shards:        2; this process runs {shard}, serving {serving} of the 2" in (
        deployment_part
    )
    assert "Database:" in deployment_part and "Guild:" not in deployment_part
    assert acme.startswith("servers/acme.toml:")
    assert f"Guild:         {ACME} (shard {shard} of 2, run here)" in acme
    assert "Timezone:      Europe/Berlin" in acme and "Tiers:         none" in acme
    assert beta.startswith("servers/beta.toml:")
    assert "Timezone:      UTC" in beta and "1. Pro [pro] role 77" in beta
    assert TOKEN not in out + result.stderr


def test_summary_of_a_single_file_keeps_its_lines() -> None:
    text = summarize(parse_config(minimal_config(), env=ENV))
    assert "Server " not in text
    assert text.splitlines()[1] == f"Guild:         {ACME}"
    assert "Shards:        none (one connection serves every server)" in text


def test_one_server_picks_by_guild_and_names_the_servers_otherwise(tmp_path: Path) -> None:
    config = load_config(two_servers(tmp_path), env=ENV)
    beta = one_server(config, BETA)
    assert beta.communities == (config.community(BETA),) and beta.servers == ()
    for guild_id in (None, 42):
        with pytest.raises(ConfigError) as caught:
            one_server(config, guild_id)
        [problem] = caught.value.problems
        assert problem.key == "--guild"
        assert f"{ACME} (servers/acme.toml), {BETA} (servers/beta.toml)" in problem.message
    single = parse_config(minimal_config(), env=ENV)
    assert one_server(single, None) is single
    assert one_server(single, ACME).settings == single.settings
    # read offline without a guild_id, a single server is the one --guild names
    unnamed = write_config(
        tmp_path / "unnamed.toml", {"database": {"url": "sqlite+aiosqlite:///x.db"}}
    )
    offline = load_offline_config(unnamed, ("database",))
    assert one_server(offline, BETA).settings.discord.guild_id == BETA


def test_export_of_one_server_of_several_needs_guild(tmp_path: Path) -> None:
    from tests.test_cli_export import build_store, store_url

    url = store_url(tmp_path)
    asyncio.run(build_store(url))
    path = two_servers(tmp_path)
    Path(path).write_text(
        Path(path).read_text(encoding="utf-8").replace("sqlite+aiosqlite:///x.db", url),
        encoding="utf-8",
    )

    missing = flywheel("export", str(tmp_path / "out"), "--config", str(path))
    assert missing.returncode == 1
    assert "--guild" in missing.stderr and "servers/beta.toml" in missing.stderr
    chosen = flywheel("export", str(tmp_path / "out"), "--config", str(path), "--guild", str(BETA))
    assert chosen.returncode == 0, chosen.stderr
    assert f"of server {BETA} " in chosen.stdout


def test_config_stays_frozen() -> None:
    config = parse_config(minimal_config(), env=ENV)
    with pytest.raises(AttributeError):
        config.servers = ()  # type: ignore[misc]
    assert isinstance(config, Config)


def test_the_example_server_file_is_valid_once_its_ids_are_filled_in(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "servers.example" / "acme.toml"
    ids = iter(range(ACME, ACME + 100))
    text = "\n".join(
        line.replace("= 0", f"= {next(ids)}") if line.endswith("= 0") else line
        for line in example.read_text(encoding="utf-8").splitlines()
    )
    config = load_config(deployment(tmp_path, {"acme.toml": text}), env=ENV)
    assert config.settings.discord.guild_id == ACME
    assert config.settings.schedule.timezone == "Europe/Berlin"
