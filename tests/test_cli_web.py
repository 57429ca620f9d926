"""``python -m bot web`` as operators run it: a process of its own over the bot's database."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.helpers import minimal_config, write_config
from tests.test_cli import ROOT, flywheel

SERVING = re.compile(r"web: serving on (http://\S+)")


def upgraded(tmp_path: Path, **sections) -> Path:
    db = tmp_path / "store.db"
    data = minimal_config(database_url=f"sqlite+aiosqlite:///{db}", **sections)
    config = write_config(tmp_path / "c.toml", data)
    assert flywheel("db", "upgrade", "--config", str(config)).returncode == 0
    return config


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_web_serves_the_pages_alone_and_stops_on_sigterm(tmp_path):
    config = upgraded(tmp_path, web={"bind": "127.0.0.1:0"})
    environment = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--config", str(config)],
        cwd=ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        lines: list[str] = []
        for line in process.stderr:
            lines.append(line)
            found = SERVING.search(line)
            if found:
                base = found.group(1)
                break
        else:
            raise AssertionError("".join(lines))

        status, body, _ = get(f"{base}/healthz")
        page, html, headers = get(f"{base}/leaderboard")
        bad, _, _ = get(f"{base}/leaderboard?page=abc")

        process.send_signal(signal.SIGTERM)
        rest = process.stderr.read()
        assert process.wait(timeout=20) == 0, rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    report = json.loads(body)
    assert status == 200 and report["status"] == "ok"
    assert report["gateway"] == {"connected": None, "detail": "not in this process"}
    assert page == 200 and b"Leaderboard" in html
    assert headers["X-Frame-Options"] == "DENY"
    assert bad == 400
    assert "shut down cleanly" in rest and "Traceback" not in rest


def test_web_needs_the_servers_id(tmp_path):
    db = tmp_path / "store.db"
    data = minimal_config(database_url=f"sqlite+aiosqlite:///{db}")
    del data["discord"]
    config = write_config(tmp_path / "c.toml", data)

    result = flywheel("web", "--config", str(config))

    assert result.returncode == 1
    assert "set discord.guild_id" in result.stderr and "Traceback" not in result.stderr


def test_web_without_a_database_says_how_to_make_one(tmp_path):
    data = minimal_config(database_url=f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    config = write_config(tmp_path / "c.toml", data)

    result = flywheel("web", "--config", str(config))

    assert result.returncode == 1
    assert "db upgrade" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_web_on_a_port_in_use_says_so(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = upgraded(tmp_path, web={"bind": f"127.0.0.1:{port}"})

        result = flywheel("web", "--config", str(config))

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} (web.bind)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_bind_address_is_a_config_problem(tmp_path):
    config = write_config(tmp_path / "c.toml", minimal_config(web={"bind": "8080"}))

    result = flywheel("check-config", "--config", str(config))

    assert result.returncode == 1
    assert "web.bind: must be HOST:PORT" in result.stderr
