"""/healthz and /metrics over a real store: the checks that fail, and the series that count."""

from __future__ import annotations

import socket
import threading

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import CONTENT_TYPE
from bot.services.container import build_services
from bot.web import GatewayStatus
from db.engine import create_engine, create_session_factory
from tests.e2e.util import eventually

ADA, GRACE = 1001, 1002


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def aiosqlite_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_healthz_in_a_process_without_the_bot(client):
    response = await client.get("/healthz")
    report = await response.json()

    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert report["status"] == "ok"
    assert report["database"]["reachable"] is True
    assert report["gateway"] == {"connected": None, "detail": "not in this process"}
    assert report["scheduler"] == {"running": None, "detail": "not in this process"}
    assert report["pending_role_changes"] is None
    assert report["last_daily_sweep"] is None


async def test_healthz_with_the_gateway_up_and_down(client_for, services):
    gateway = GatewayStatus(connected=True, latency=0.0421)
    client = await client_for(services, gateway=lambda: gateway, scheduler=lambda: True)

    up = await client.get("/healthz")
    up_report = await up.json()
    gateway = GatewayStatus.of(False, float("inf"))  # discord.py's latency while down
    down = await client.get("/healthz")
    down_report = await down.json()

    assert up.status == 200
    assert up_report["gateway"] == {"connected": True, "latency_ms": 42.1}
    assert up_report["scheduler"] == {"running": True}
    assert up_report["pending_role_changes"] == 0
    assert down.status == 503
    assert down_report["status"] == "unavailable"
    assert down_report["gateway"] == {"connected": False, "latency_ms": None}
    assert down_report["database"]["reachable"] is True


async def test_healthz_503_when_postgresql_cannot_be_reached(client_for, settings, clock):
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/nowhere")
    try:
        services = build_services(settings, clock, create_session_factory(engine))
        client = await client_for(services)

        response = await client.get("/healthz")
        report = await response.json()
    finally:
        await engine.dispose()

    assert response.status == 503
    assert report["status"] == "unavailable"
    assert report["database"]["reachable"] is False
    assert report["database"]["error"]  # the error's type, never the URL or a password
    assert "postgres@" not in await response.text()
    assert report["last_daily_sweep"] is None


async def test_healthz_503_when_the_sqlite_file_cannot_be_opened(
    client_for, settings, clock, tmp_path
):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    before = aiosqlite_threads()
    try:
        services = build_services(settings, clock, create_session_factory(engine))
        client = await client_for(services, gateway=lambda: GatewayStatus(True, 0.01))

        response = await client.get("/healthz")
        report = await response.json()
    finally:
        await engine.dispose()
        # aiosqlite stops a connection that failed to open without waiting for its thread;
        # let the thread finish while this test's loop still runs (it answers on the loop).
        await eventually(lambda: not aiosqlite_threads() - before)

    assert response.status == 503
    assert report["database"] == {"reachable": False, "error": "OperationalError"}
    assert report["gateway"]["connected"] is True  # the store alone fails the check


async def test_healthz_reports_the_last_daily_sweep(client, services, clock):
    report_before = await (await client.get("/healthz")).json()

    await services.tiers.run_sweep()
    report = await (await client.get("/healthz")).json()

    assert report_before["last_daily_sweep"] is None
    assert report["last_daily_sweep"] == clock.now().isoformat()


async def test_metrics_after_real_service_calls(client, services):
    before = samples(await (await client.get("/metrics")).text())
    contributions = services.contributions
    async with services.sessions() as session, session.begin():
        await contributions.record(session, contributions.credit("answer", ADA, "a:1"))
        await contributions.record(session, contributions.credit("answer", GRACE, "a:2"))
        await contributions.record(session, contributions.credit("answer", ADA, "a:1"))  # again
        await contributions.record(session, contributions.credit("talk", ADA, "talk:1"))
    services.tiers.roles.enqueue([ADA, GRACE])  # the worker is not started: they wait

    response = await client.get("/metrics")
    after = samples(await response.text())

    assert response.headers["Content-Type"] == CONTENT_TYPE
    credited = "flywheel_contributions_credited_total"
    assert (credited, (("kind", "answer"),)) not in before
    assert after[(credited, (("kind", "answer"),))] == 2  # the repeat was not recorded
    assert after[(credited, (("kind", "talk"),))] == 1
    assert after[("flywheel_pending_role_changes", ())] == 2
    assert before[("flywheel_pending_role_changes", ())] == 0


async def test_activity_flush_latency_is_observed(client, services, clock):
    services.activity.observe_post(
        1, ADA, 2, None, None, clock.now(), "A message long enough to count as active."
    )

    await services.activity.flush()
    values = samples(await (await client.get("/metrics")).text())

    assert values[("flywheel_activity_flush_seconds_count", ())] == 1
    assert values[("flywheel_activity_flush_seconds_sum", ())] > 0


async def test_each_app_has_its_own_registry(client_for, settings, clock, sessions):
    first = build_services(settings, clock, sessions)
    second = build_services(settings, clock, sessions)
    first.metrics.messages_seen.inc(3)

    one = samples(await (await (await client_for(first)).get("/metrics")).text())
    other = samples(await (await (await client_for(second)).get("/metrics")).text())

    assert one[("flywheel_messages_seen_total", ())] == 3
    assert other[("flywheel_messages_seen_total", ())] == 0


async def test_a_sweep_whose_time_cannot_be_recorded_still_completes(
    client, services, engine, caplog
):
    from db.faults import StoreFaults

    faults = StoreFaults.attach(engine)
    refused = faults.fail(match=r"INSERT INTO guild_settings", times=None)
    try:
        report = await services.tiers.run_sweep()
    finally:
        faults.detach()
    health = await (await client.get("/healthz")).json()

    assert report is not None and refused.hits >= 1
    assert health["last_daily_sweep"] is None
    assert "could not record the time of today's sweep" in caplog.text


async def test_healthz_503_when_the_store_is_too_slow_to_answer(client, engine):
    from bot.web.ops import DATABASE_TIMEOUT
    from db.faults import StoreFaults

    faults = StoreFaults.attach(engine)
    faults.slow(DATABASE_TIMEOUT + 1, match=r"^SELECT 1$", times=1)
    try:
        response = await client.get("/healthz")
        report = await response.json()
    finally:
        faults.detach()

    assert response.status == 503
    assert report["database"] == {"reachable": False, "error": "no answer within 2 s"}
    assert (await client.get("/healthz")).status == 200  # and it recovers
