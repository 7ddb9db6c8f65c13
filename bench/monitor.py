"""How long the policy monitor takes to stop a transfer's download after its agreement is terminated.

A `pdr serve` on SQLite and a file store; a verified provider with a conditional dataset of one large file and an
offer; for each trial, a negotiation walked to FINALIZED over the API, a transfer, and a download read at a steady
rate by this process. A quarter of the way in, the consumer terminates the agreement; the figure is the time from
the termination's answer to the connection's end, as the consumer sees it (bytes already in the socket buffers are
read first). Prints JSON.

    python bench/monitor.py [--trials 10] [--size-mib 256] [--rate-mib 32] [--check-seconds 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from negotiation import TERMS
from support import start_embedded, token, uscc

PIECE = 256 * 1024


class Party:
    """The bench's accounts on the server: their Authorization headers."""

    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base = base
        admin = {"Authorization": f"Bearer {token(env, 'monitor-admin', 'admin')}"}
        self.auth: dict[str, dict[str, str]] = {}
        for name in ("operator", "consumer", "provider"):
            made = httpx.post(f"{base}/api/v1/accounts", headers=admin, json={"name": f"monitor-{name}", "role": name})
            made.raise_for_status()
            self.auth[name] = {"Authorization": f"Bearer {made.json()['token']}"}

    def post(self, who: str, path: str, body: Any = None, **request: Any) -> Any:
        """POST as one of the accounts; the answer's JSON."""
        answer = httpx.post(f"{self.base}{path}", headers=self.auth[who], json=body, timeout=600, **request)
        answer.raise_for_status()
        return answer.json()


def _dataset(party: Party, size: int) -> tuple[str, str, str]:
    """A verified entity's published conditional dataset with one file of `size` bytes and an offer; their ids."""
    contact = {"contact_name": "张敏", "contact_phone": "020-83001234", "contact_email": "data@example.gov.cn"}
    entity = {"name": "广州市监测基准数据局", "kind": "data_source", "uscc": uscc(4242), **contact}
    made = party.post("provider", "/api/v1/entities", entity)
    party.post("operator", f"/api/v1/entities/{made['id']}/verify")
    body = {"title": "基准测试大文件", "description": "策略监控基准测试用的大文件。", "access": "conditional"}
    dataset = party.post("provider", "/api/v1/datasets", body)["id"]
    piece = bytes(range(256)) * (PIECE // 256)

    def content() -> Any:
        for _ in range(size // PIECE):
            yield piece

    headers = {**party.auth["provider"], "Content-Type": "application/octet-stream"}
    sent = httpx.post(
        f"{party.base}/api/v1/datasets/{dataset}/files",
        params={"name": "big.bin"},
        content=content(),
        headers=headers,
        timeout=600,
    )
    sent.raise_for_status()
    party.post("provider", f"/api/v1/datasets/{dataset}/publish")
    offer = party.post("provider", f"/api/v1/datasets/{dataset}/offers", TERMS)["id"]
    return dataset, sent.json()["id"], offer


def _agreement(party: Party, offer: str) -> str:
    """A negotiation from request to FINALIZED; its agreement's id."""
    nid = party.post("consumer", "/api/v1/negotiations", {"offer_id": offer})["id"]
    for who, step in (("provider", "agree"), ("consumer", "verify"), ("provider", "finalize")):
        party.post(who, f"/api/v1/negotiations/{nid}/{step}")
    return str(nid)


def _trial(party: Party, offer: str, file_id: str, size: int, rate: float) -> dict[str, float]:
    """One transfer's download, terminated a quarter of the way in: seconds to the cut, and the share received."""
    nid = _agreement(party, offer)
    transfer = party.post("consumer", "/api/v1/transfers", {"agreement_id": nid})
    properties = {p["name"]: p["value"] for p in transfer["data_address"]["endpointProperties"]}
    url = f"{party.base}{urlsplit(transfer['data_address']['endpoint']).path}/{file_id}"
    received, pause = 0, PIECE / rate
    with (
        httpx.Client(timeout=60) as http,
        http.stream("GET", url, headers={"Authorization": f"Bearer {properties['authorization']}"}) as answer,
    ):
        pieces = answer.iter_raw(PIECE)
        terminated_at = None
        try:
            for piece in pieces:
                received += len(piece)
                if terminated_at is None and received >= size // 4:
                    party.post("consumer", f"/api/v1/agreements/{nid}/terminate", {"reason": "基准测试"})
                    terminated_at = time.monotonic()
                time.sleep(pause)
        except httpx.HTTPError:  # cut: the server closed the connection before the body's end
            pass
        ended_at = time.monotonic()
    assert terminated_at is not None and received < size, "the download was not cut"
    return {"cut_seconds": ended_at - terminated_at, "received_share": received / size}


def main() -> None:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rate-mib", type=float, default=32.0, help="how fast the consumer reads, MiB/s")
    parser.add_argument("--check-seconds", type=float, default=1.0, help="PDR_TRANSFER_CHECK_SECONDS")
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    work = Path(tempfile.mkdtemp(prefix="pdr-monitor-bench-"))
    server, env, base = start_embedded(work, PDR_TRANSFER_CHECK_SECONDS=str(args.check_seconds))
    try:
        party = Party(base, env)
        _, file_id, offer = _dataset(party, size)
        trials = [_trial(party, offer, file_id, size, args.rate_mib * 1024 * 1024) for _ in range(args.trials)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    cuts = sorted(t["cut_seconds"] for t in trials)
    print(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
                "check_seconds": args.check_seconds,
                "file_mib": args.size_mib,
                "read_rate_mib_s": args.rate_mib,
                "trials": args.trials,
                "cut_seconds": {
                    "min": round(cuts[0], 3),
                    "median": round(statistics.median(cuts), 3),
                    "max": round(cuts[-1], 3),
                },
                "received_share_max": round(max(t["received_share"] for t in trials), 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
