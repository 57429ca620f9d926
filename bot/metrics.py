"""Every Prometheus metric Flywheel exports, defined once, in a registry of its own.

The composition root makes one :class:`Metrics` per process and hands it to the services, the
bot and the web app; they count through it (``metrics.messages_seen.inc()``), never through
module-level globals, so two bots in one test process never share a counter. ``/metrics``
serves :meth:`Metrics.exposition`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Final, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, Metric

#: The content type of :meth:`Metrics.exposition` (Prometheus text format 0.0.4).
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

ScheduledOutcome = Literal["made", "late", "skipped"]

#: Activity flushes take milliseconds; a slow store shows up in the upper buckets.
FLUSH_BUCKETS: Final = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LoopCounter:
    """A counter bumped only from the event loop's thread: a plain add, read at scrape time.

    ``prometheus_client.Counter.inc`` takes a lock and checks the metric's state on every call,
    about 0.4 µs: a measurable share of handling a message (bench/README.md, ingestion). The
    exposition is the same as a ``Counter``'s (``_total`` and ``_created``).
    """

    def __init__(self, name: str, documentation: str, *, registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self.value = 0
        # What prometheus_client's Counter reports as ``_created``: the metric's own creation.
        self._created = time.time()
        registry.register(self)

    def inc(self, amount: int = 1) -> None:
        if amount < 0:
            raise ValueError("counters can only be incremented by non-negative amounts")
        self.value += amount

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation)
        family.add_metric([], self.value, created=self._created)
        yield family


class Metrics:
    """The process's metrics; ``registry`` is this object's alone."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._role_queues: list[Callable[[], float]] = []
        self.messages_seen = LoopCounter(
            "flywheel_messages_seen",
            "Messages the bot received from the gateway.",
            registry=registry,
        )
        self.contributions_credited = Counter(
            "flywheel_contributions_credited",
            "Contributions recorded in the ledger, by kind (repeats and reversals not counted; "
            "a write whose transaction then rolls back is).",
            ["kind"],
            registry=registry,
        )
        self.activity_flush_seconds = Histogram(
            "flywheel_activity_flush_seconds",
            "How long writing one batch of buffered activity to the store took.",
            buckets=FLUSH_BUCKETS,
            registry=registry,
        )
        self.pending_role_changes = Gauge(
            "flywheel_pending_role_changes",
            "Members waiting in the role queue for a tier role edit.",
            registry=registry,
        )
        self.discord_http_errors = Counter(
            "flywheel_discord_http_errors",
            "Discord API answers that were rate limits (429) or server errors (5xx), by route.",
            ["route", "status"],
            registry=registry,
        )
        self.scheduled_posts = Counter(
            "flywheel_scheduled_posts",
            "Once-per-period posts by outcome: made on time, made late (caught up), skipped.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.interactions_late = Counter(
            "flywheel_interactions_answered_late",
            "Interactions whose handler was slow enough that the bot deferred for it.",
            registry=registry,
        )

    def credited(self, kind: str, count: int = 1) -> None:
        if count > 0:
            self.contributions_credited.labels(kind=kind).inc(count)

    def scheduled(self, kind: str, outcome: ScheduledOutcome) -> None:
        self.scheduled_posts.labels(kind=kind, outcome=outcome).inc()

    def discord_error(self, route: str, status: int) -> None:
        """A 429 or 5xx from Discord; ``route`` is the route template, not the URL (no ids)."""
        label = "429" if status == 429 else "5xx"
        self.discord_http_errors.labels(route=route, status=label).inc()

    def watch_pending_role_changes(self, read: Callable[[], float]) -> None:
        """Read the role queues' lengths at scrape time (each queue owns its number; a process
        serving several servers has one queue per server, and the gauge is their sum)."""
        self._role_queues.append(read)
        queues = self._role_queues
        self.pending_role_changes.set_function(lambda: sum(read() for read in queues))

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)
