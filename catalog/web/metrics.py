"""Prometheus metrics of one app: request counts and latencies by route template, summed over every worker process
when the service runs several (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# prometheus-client's own variable: set before a process imports the library, its metrics live in files there.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    """The folder the worker processes share their metrics in, or None when this process counts alone."""
    folder = os.environ.get(MULTIPROC_DIR_VARIABLE)
    return Path(folder) if folder else None


@contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """A metrics folder for the worker processes of one run: the operator's (emptied), or a private one removed after.

    Set in the environment, which the workers inherit; files a previous run left would add its counts to this one's.
    """
    given = multiprocess_dir()
    folder = given or Path(tempfile.mkdtemp(prefix="pdr-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()
    previous = os.environ.get(MULTIPROC_DIR_VARIABLE)
    os.environ[MULTIPROC_DIR_VARIABLE] = str(folder)
    try:
        yield folder
    finally:
        if given is None:
            shutil.rmtree(folder, ignore_errors=True)
            if previous is None:
                os.environ.pop(MULTIPROC_DIR_VARIABLE, None)


class Metrics:
    """The app's own registry, so that several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.shared_dir = multiprocess_dir()
        self.requests = Counter(
            "pdr_http_requests",
            "HTTP requests served, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "pdr_http_request_duration_seconds",
            "Time to serve HTTP requests, by method and route template.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        # Every worker mirrors the same catalog: with several, the largest live mirror stands for them.
        self.mirror_datasets = Gauge(
            "pdr_search_mirror_datasets",
            "Datasets in the search mirror of the worker that answers (the largest live one, with several workers).",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.mirror_bytes = Gauge(
            "pdr_search_mirror_bytes",
            "Bytes the search mirror holds: its columns, tags and kept word sets (the largest live one).",
            registry=self.registry,
            multiprocess_mode="livemax",
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its duration."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            # Finding a labelled child checks and locks each time; a route's few children are kept instead.
            series = self._series[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        series[0].inc()
        series[1].observe(seconds)

    def mirror(self, datasets: int, held: int) -> None:
        """Report this process's search mirror: its datasets and the bytes it holds."""
        self.mirror_datasets.set(datasets)
        self.mirror_bytes.set(held)

    def render(self) -> bytes:
        """The registry in Prometheus text format: with worker processes, the sum over all of them."""
        if self.shared_dir is None:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, path=str(self.shared_dir))  # type: ignore[no-untyped-call]
        return generate_latest(combined)

    def process_exited(self) -> None:
        """Drop this process's live gauges from the shared folder; its counters stay in the totals."""
        if self.shared_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), path=str(self.shared_dir))  # type: ignore[no-untyped-call]
