"""A mixed load through nginx on the local topology (deploy/topology.py) at 1, 2 and 4 workers, then the same load
with faults. Prints JSON.

    .venv/bin/python bench/topology.py [--seconds 20] [--clients 8] [--workers 1 2 4] [--faults] [--postgres URL]

The load is about 70% searches, 15% dataset pages, 10% downloads (a presigned redirect to the S3 server, followed)
and 5% writes (a new dataset, confirmed by 201). For each worker count it reports throughput and p50/p99 per class,
and the scaling ratio against one worker. With --faults (two workers), it kills one worker with SIGKILL, restarts
the PostgreSQL cluster (`pg_ctlcluster ... restart`, which disturbs everything else using it: run it on a quiet
machine) and stops the S3 server for 10 seconds (SIGSTOP, then SIGCONT), and reports the answers other than
2xx/4xx/503, the confirmed writes missing afterwards, how long each fault took to recover from, and whether every
worker answers the same search counts afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deploy.topology import DEFAULT_POSTGRES, Topology, topology

WORDS = ["充电桩", "公交", "客流", "停车", "parking", "地铁", "医疗", "transport", "天河", "数据"]
MIX = [("search", 70), ("dataset", 15), ("download", 10), ("write", 5)]


@dataclass
class Tally:
    """What the clients saw: latencies per class, statuses, and the datasets whose creation was confirmed."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    confirmed: list[str] = field(default_factory=list)
    # Per second of the run: answers that were fine, and failed connections or 5xx (503 included).
    good: Counter[int] = field(default_factory=Counter)
    bad: Counter[int] = field(default_factory=Counter)
    began: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, status: int, seconds: float, at: float) -> None:
        """Record one answer (status 0: the connection failed)."""
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[f"{kind}:{status}"] += 1
            if status == 0 or (status >= 500 and status != 503):
                self.unexpected[f"{kind}:{status}"] += 1
            second = int(at - self.began)
            if status == 0 or status >= 500:
                self.bad[second] += 1
            else:
                self.good[second] += 1

    def recovered_after(self, fault: float) -> float | None:
        """Seconds from a fault to the first whole second with answers and no failure (None: never, in the run)."""
        last = max(self.good, default=0)
        for second in range(int(fault), last + 1):
            if self.good[second] and not self.bad[second]:
                return round(max(second - fault, 0.0), 1)
        return None


def _seed(up: Topology, client: httpx.Client, count: int) -> tuple[str, list[str], list[str]]:
    """A provider with a verified entity and `count` published datasets, some with a file; returns (provider token,
    dataset ids, file content paths)."""
    provider = up.pdr("accounts", "create", "bench-provider", "--role", "provider").strip().splitlines()[-1]
    operator = up.pdr("accounts", "create", "bench-operator", "--role", "operator").strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {provider}"}
    body = {"name": "拓扑基准单位", "kind": "data_source", "uscc": "91350100M000100Y43"}
    entity = client.post("/api/v1/entities", json=body, headers=auth).json()
    client.post(f"/api/v1/entities/{entity['id']}/verify", headers={"Authorization": f"Bearer {operator}"})
    ids, contents = [], []
    for n in range(count):
        title = f"{random.choice(WORDS)}{random.choice(WORDS)}数据集{n}"
        made = client.post("/api/v1/datasets", json={"title": title, "access": "unconditional"}, headers=auth).json()
        if n % 4 == 0:
            upload = client.post(
                f"/api/v1/datasets/{made['id']}/files",
                content=os.urandom(64 * 1024),
                params={"name": "d.bin"},
                headers=auth,
            ).json()
            contents.append(f"/api/v1/datasets/{made['id']}/files/{upload['id']}/content")
        client.post(f"/api/v1/datasets/{made['id']}/publish", headers=auth)
        ids.append(made["id"])
    return provider, ids, contents


def _one(client: httpx.Client, kind: str, provider: str, ids: list[str], contents: list[str]) -> tuple[int, str | None]:
    """Send one request of a class; its status (0 when the connection failed) and a confirmed dataset id."""
    try:
        if kind == "search":
            return client.get("/api/v1/datasets", params={"q": random.choice(WORDS)}).status_code, None
        if kind == "dataset":
            return client.get(f"/api/v1/datasets/{random.choice(ids)}").status_code, None
        if kind == "download":
            return client.get(random.choice(contents), follow_redirects=True).status_code, None
        body = {"title": f"基准写入{random.randrange(10**9)}", "access": "unconditional"}
        answer = client.post("/api/v1/datasets", json=body, headers={"Authorization": f"Bearer {provider}"})
        return answer.status_code, answer.json()["id"] if answer.status_code == 201 else None
    except httpx.HTTPError:
        return 0, None


def load(up: Topology, seconds: float, clients: int, seed: tuple[str, list[str], list[str]], tally: Tally) -> float:
    """Run the mixed load; returns the elapsed seconds."""
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    stop = time.monotonic() + seconds

    def client_loop() -> None:
        with httpx.Client(base_url=up.base_url, verify=str(up.certificate), timeout=30) as client:
            while time.monotonic() < stop:
                kind = random.choice(kinds)
                started = time.monotonic()
                status, made = _one(client, kind, *seed)
                tally.note(kind, status, time.monotonic() - started, time.monotonic())
                if made:
                    with tally.lock:
                        tally.confirmed.append(made)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - began


def _summary(tally: Tally, elapsed: float) -> dict[str, object]:
    per_class = {}
    for kind, values in tally.latencies.items():
        ordered = sorted(values)
        per_class[kind] = {
            "requests": len(values),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        }
    total = sum(len(v) for v in tally.latencies.values())
    return {
        "requests_per_second": round(total / elapsed, 1),
        "classes": per_class,
        "unexpected": dict(tally.unexpected),
    }


def _workers(server_pid: int) -> list[int]:
    """The worker processes of a `pdr serve` supervisor."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _faults(up: Topology, at: Callable[[], float], log: dict[str, float]) -> None:
    """Kill a worker at 5 s, restart PostgreSQL at 15 s, stop the S3 server from 25 s to 35 s."""
    time.sleep(5)
    worker = _workers(up.server_pid)[0]
    os.kill(worker, signal.SIGKILL)
    log["worker_killed"] = at()
    time.sleep(10)
    cluster = sorted(os.listdir("/etc/postgresql"))[-1]
    log["postgres_restart"] = at()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)
    log["postgres_back"] = at()
    time.sleep(8)
    os.kill(up.s3_pid, signal.SIGSTOP)
    log["s3_stopped"] = at()
    time.sleep(10)
    os.kill(up.s3_pid, signal.SIGCONT)
    log["s3_resumed"] = at()


def _missing(up: Topology, ids: list[str], provider: str) -> int:
    """How many confirmed writes the service no longer has."""
    with httpx.Client(base_url=up.base_url, verify=str(up.certificate), timeout=30) as client:
        auth = {"Authorization": f"Bearer {provider}"}
        return sum(client.get(f"/api/v1/datasets/{i}", headers=auth).status_code != 200 for i in ids)


def _same_counts(up: Topology) -> bool:
    """Whether many searches (spread over the workers by nginx) all give the same counts."""
    with httpx.Client(base_url=up.base_url, verify=str(up.certificate), timeout=30) as client:
        counts = {w: {client.get("/api/v1/datasets", params={"q": w}).json()["count"] for _ in range(8)} for w in WORDS}
    return all(len(values) == 1 for values in counts.values())


def run(workers: int, args: argparse.Namespace, faults: bool) -> dict[str, object]:
    """One topology, seeded, loaded (with faults if asked)."""
    with topology(workers=workers, postgres=args.postgres) as up:
        with httpx.Client(base_url=up.base_url, verify=str(up.certificate), timeout=60) as client:
            seed = _seed(up, client, args.datasets)
        tally = Tally()
        log: dict[str, float] = {}
        injector = threading.Thread(target=_faults, args=(up, lambda: time.monotonic() - tally.began, log))
        if faults:
            injector.start()
        elapsed = load(up, args.seconds, args.clients, seed, tally)
        if faults:
            injector.join()
        result = {"workers": workers, **_summary(tally, elapsed), "confirmed_writes": len(tally.confirmed)}
        result["confirmed_writes_missing"] = _missing(up, tally.confirmed, seed[0])
        result["same_search_counts_on_every_worker"] = _same_counts(up)
        if faults:
            result["faults_at_seconds"] = {k: round(v, 2) for k, v in log.items()}
            starts = {"worker_killed": "worker_killed", "postgres_restart": "postgres_restart", "s3": "s3_resumed"}
            result["recovered_after_seconds"] = {
                k: tally.recovered_after(log[v]) for k, v in starts.items() if v in log
            }
        return result


def main() -> None:
    """Measure at each worker count, then under faults."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("PDR_TEST_DATABASE_URL", DEFAULT_POSTGRES))
    args = parser.parse_args()
    runs = [run(n, args, faults=False) for n in args.workers]
    base = runs[0]["requests_per_second"]
    for result in runs:
        rate = result["requests_per_second"]
        assert isinstance(rate, float) and isinstance(base, float)
        result["scaling_vs_first"] = round(rate / base, 2)
    report: dict[str, object] = {
        "benchmark": "topology",
        "seconds": args.seconds,
        "clients": args.clients,
        "runs": runs,
    }
    if args.faults:
        report["faults"] = run(2, argparse.Namespace(**{**vars(args), "seconds": max(args.seconds, 45)}), faults=True)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
