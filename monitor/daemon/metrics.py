"""The daemon's Prometheus metrics, in a registry of its own (several daemons may run in one
test process). The poller reports to it as its `PollObserver`, the service hands it each
dispatch pass's report, and what the store holds (feeds failing and stale, deliveries pending)
is read when Prometheus scrapes, so it is never out of date."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor.daemon.health import Vitals
from monitor.model import PollOutcome
from monitor.pipeline import DispatchReport

log = logging.getLogger("monitor.metrics")

# Feed fetches: a loopback 304 takes milliseconds, a slow site the whole fetch timeout (30 s).
_FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Matching one item against every watchlist, and folding one new item into its story (with its
# rows' inserts): tens of microseconds to a few milliseconds (bench/).
_ITEM_BUCKETS = (1e-5, 5e-5, 1e-4, 5e-4, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5)
DELIVERY_OUTCOMES = ("sent", "retry", "failed", "held")


class Metrics:
    def __init__(self, vitals: Callable[[], Vitals]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._polls = Counter(
            "monitor_polls", "Feed polls, by status word", ["status"], registry=registry
        )
        self._fetch = Histogram(
            "monitor_fetch_duration_seconds",
            "Feed document fetches (a body, a 304 or an error)",
            buckets=_FETCH_BUCKETS,
            registry=registry,
        )
        self._new_items = Counter(
            "monitor_new_items", "Items stored for the first time", registry=registry
        )
        self._folds = Counter(
            "monitor_story_folds",
            "New items folded into an earlier story, by the layer that folded them",
            ["layer"],
            registry=registry,
        )
        self._alerts = Counter("monitor_alerts_created", "Alerts created", registry=registry)
        self._deliveries = Counter(
            "monitor_deliveries",
            "Deliveries (alert x channel) by outcome of their send or hold",
            ["outcome"],
            registry=registry,
        )
        for outcome in DELIVERY_OUTCOMES:
            self._deliveries.labels(outcome)
        self._match = Histogram(
            "monitor_match_seconds",
            "Matching one item against the watchlists",
            buckets=_ITEM_BUCKETS,
            registry=registry,
        )
        self._fold = Histogram(
            "monitor_fold_seconds",
            "Storing one new item in its story (its document's time shared by its new items)",
            buckets=_ITEM_BUCKETS,
            registry=registry,
        )
        registry.register(_StoreCollector(vitals))

    # PollObserver
    def fetched(self, seconds: float) -> None:
        self._fetch.observe(seconds)

    def matched(self, seconds: float) -> None:
        self._match.observe(seconds)

    def folded(self, seconds: float, layers: Sequence[str | None]) -> None:
        for layer in layers:
            self._fold.observe(seconds / len(layers))
            if layer is not None:
                self._folds.labels(layer).inc()

    def polled(self, outcome: PollOutcome) -> None:
        self._polls.labels(outcome.word).inc()
        self._new_items.inc(outcome.new_items)
        self._alerts.inc(outcome.alerts)

    def dispatched(self, report: DispatchReport) -> None:
        for outcome, count in zip(
            DELIVERY_OUTCOMES,
            (report.sent, report.retrying, report.failed, report.held),
            strict=True,
        ):
            if count:
                self._deliveries.labels(outcome).inc(count)


class _StoreCollector(Collector):
    """Gauges read from the store at each scrape: two small queries (docs/design.md §9)."""

    def __init__(self, vitals: Callable[[], Vitals]) -> None:
        self._vitals = vitals

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # not read at registration: the database may not be ready yet

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            vitals = self._vitals()
        except Exception as error:  # /healthz says why; the other metrics are still served
            log.debug("metrics: the store's gauges are left out: %r", error)
            return
        feeds = vitals.feeds
        yield GaugeMetricFamily(
            "monitor_feeds_failing", "Feeds whose last poll failed (or dead)", feeds.failing
        )
        yield GaugeMetricFamily(
            "monitor_feeds_stale", "Feeds polled fine but silent past stale_after", feeds.stale
        )
        yield GaugeMetricFamily("monitor_feeds", "Configured feeds", feeds.feeds)
        yield GaugeMetricFamily(
            "monitor_deliveries_pending",
            "Deliveries waiting to be sent (retries, digests and sends in flight included)",
            vitals.pending.deliveries,
        )
        yield GaugeMetricFamily(
            "monitor_oldest_pending_delivery_age_seconds",
            "Age of the oldest delivery waiting to be sent (0 when none)",
            vitals.oldest_pending_seconds,
        )
