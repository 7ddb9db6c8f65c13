"""A restore drill: fill a topology, back it up as docs/operations.md says, restore it into a fresh database and a
fresh bucket, and check the restore the way an operator would. Prints JSON; exits 1 if any check fails.

    .venv/bin/python -m deploy.restore_drill [--postgres URL]

The backup is `pg_dump --format=custom` of the database, then a copy of every object of the bucket; the restore is
`pg_restore` into a new database and the objects into a new bucket. The checks: `pdr init` (the schema is current
and the keys open with the same passphrase), `pdr log audit`, `pdr storage verify`, and a restored `pdr serve`
answering with the same log size, the same certificate and the same file bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from minio import Minio
from sqlalchemy.engine import make_url

from deploy import local_nginx
from deploy.topology import (
    BUCKET,
    DEFAULT_POSTGRES,
    S3_KEY,
    S3_REGION,
    S3_SECRET,
    Topology,
    fresh_database,
    started,
    topology,
    wait_ready,
)

RESTORED_BUCKET = "pdr-restored"


@dataclass(frozen=True)
class Filled:
    """What the drill put in before the backup, to compare the restore with."""

    log_size: int
    certificate: dict[str, Any]
    content_path: str
    sha256: str


ENTITY = {"name": "恢复演练单位", "kind": "data_source", "uscc": "91350100M000100Y43"}
RESOURCE = {
    "name": "恢复演练资源",
    "summary": "用于恢复演练的数据资源。",
    "formats": ["CSV"],
    "data_items": [{"name": "id", "type": "string"}],
    "sharing_attribute": "unconditional",
    "open_attribute": "unconditional",
    "security_level": "general",
    "update_cycle": "monthly",
    "record_count": 1,
    "time_coverage_start": "2026-01-01",
    "time_coverage_end": "2026-06-30",
    "spatial_coverage": "广州市",
    "storage_location": "广州市政务云",
    "source": "恢复演练",
    "themes": ["public_services"],
    "keywords": ["演练"],
}


class Api:
    """The topology's API as one account, through nginx."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client, self.auth = client, {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: object = None, **options: Any) -> Any:
        """POST and return the JSON answer; any refusal ends the drill."""
        answer = self.client.post(path, json=body, headers=self.auth, **options)
        answer.raise_for_status()
        return answer.json()


def _registered(provider: Api, operator: Api) -> str:
    """A verified entity and a resource taken through registration (the topology has no notice); its id."""
    entity = provider.post("/api/v1/entities", ENTITY)
    operator.post(f"/api/v1/entities/{entity['id']}/verify")
    resource = provider.post("/api/v1/resources", RESOURCE)
    registration = provider.post("/api/v1/registrations", {"type": "first", "subject": {"resource_id": resource["id"]}})
    provider.post(f"/api/v1/registrations/{registration['id']}/submit")
    for step in ("accept", "pass-review"):
        operator.post(f"/api/v1/registrations/{registration['id']}/{step}")
    return str(resource["id"])


def fill(up: Topology) -> Filled:
    """A registered resource with a certificate, and a published dataset with a file on S3."""
    tokens = [
        up.pdr("accounts", "create", f"drill-{r}", "--role", r).strip().splitlines()[-1]
        for r in ("provider", "operator")
    ]
    payload = os.urandom(256 * 1024)
    with httpx.Client(base_url=up.base_url, verify=str(up.certificate), timeout=60) as client:
        provider, operator = Api(client, tokens[0]), Api(client, tokens[1])
        resource_id = _registered(provider, operator)
        issued = operator.post(
            "/api/v1/certificates", {"resource_id": resource_id, "rights": ["holding"], "scope": "恢复演练"}
        )
        dataset = provider.post("/api/v1/datasets", {"title": "恢复演练数据", "resource_id": resource_id})
        stored = provider.post(
            f"/api/v1/datasets/{dataset['id']}/files", None, content=payload, params={"name": "drill.bin"}
        )
        provider.post(f"/api/v1/datasets/{dataset['id']}/publish")
        size = int(client.get("/log/checkpoint").text.splitlines()[1])
    path = f"/api/v1/datasets/{dataset['id']}/files/{stored['id']}/content"
    return Filled(size, issued, path, hashlib.sha256(payload).hexdigest())


def _libpq(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq (pg_dump, pg_restore) takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _store(up: Topology) -> tuple[Minio, str]:
    """A client of the topology's S3 server, and the endpoint."""
    endpoint = up.env["PDR_STORAGE_URL"].split("endpoint=", 1)[1].split("&", 1)[0]
    return Minio(endpoint, S3_KEY, S3_SECRET, secure=False, region=S3_REGION), endpoint


def back_up(up: Topology, folder: Path) -> Path:
    """The database first, then every object: the backup as docs/operations.md describes it."""
    dump = folder / "pdr.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), _libpq(up.env["PDR_DATABASE_URL"])], check=True)
    store, _ = _store(up)
    for item in store.list_objects(BUCKET, recursive=True):
        assert item.object_name is not None
        store.fget_object(BUCKET, item.object_name, str(folder / "objects" / item.object_name))
    return dump


def restore(up: Topology, dump: Path, folder: Path, database_url: str) -> dict[str, str]:
    """The dump into a fresh database, the objects into a fresh bucket; the settings a restored service runs with."""
    subprocess.run(["pg_restore", "--no-owner", "--dbname", _libpq(database_url), str(dump)], check=True)
    store, endpoint = _store(up)
    store.make_bucket(RESTORED_BUCKET)
    objects = folder / "objects"
    for path in objects.rglob("*"):
        if path.is_file():
            store.fput_object(RESTORED_BUCKET, path.relative_to(objects).as_posix(), str(path))
    prefix = up.env["PDR_STORAGE_URL"].split("://", 1)[1].split("?", 1)[0].split("/", 1)[1]
    storage_url = f"s3://{RESTORED_BUCKET}/{prefix}?endpoint={endpoint}&secure=false"
    return {**up.env, "PDR_DATABASE_URL": database_url, "PDR_STORAGE_URL": storage_url}


def _pdr(env: dict[str, str], *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "catalog.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    return done.returncode, (done.stdout + done.stderr).strip()[-500:]


def check(env: dict[str, str], filled: Filled, work: Path) -> dict[str, object]:
    """What an operator checks after a restore, and a restored service answering as the original did."""
    report: dict[str, object] = {}
    for name, command in (
        ("init", ("init",)),
        ("log_audit", ("log", "audit")),
        ("storage_verify", ("storage", "verify")),
    ):
        code, output = _pdr(env, *command)
        report[name] = "ok" if code == 0 else f"failed ({code}): {output}"
    port = local_nginx.free_port()
    # Served directly (no nginx): the restored service need only answer; its public URL stays the original's.
    serve = [sys.executable, "-m", "catalog.cli", "serve", "--port", str(port)]
    with (
        started(serve, env, work / "restored.log") as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
    ):
        wait_ready(f"http://127.0.0.1:{port}", process)
        report["log_size"] = [filled.log_size, int(client.get("/log/checkpoint").text.splitlines()[1])]
        bundle = client.get(f"/api/v1/certificates/{filled.certificate['number']}").json()
        report["certificate_unchanged"] = bundle["credential"] == filled.certificate["credential"]
        content = client.get(filled.content_path, follow_redirects=True).content
        report["file_unchanged"] = hashlib.sha256(content).hexdigest() == filled.sha256
    return report


def drill(postgres: str = DEFAULT_POSTGRES) -> dict[str, object]:
    """Fill, back up, restore and check; the report of the checks."""
    with (
        tempfile.TemporaryDirectory(prefix="pdr-drill-") as name,
        topology(workers=1, postgres=postgres, settings={"PDR_NOTICE_WORKING_DAYS": "0"}) as up,
    ):
        work = Path(name)
        filled = fill(up)
        dump = back_up(up, work)
        with fresh_database(postgres) as restored_url:
            env = restore(up, dump, work, restored_url)
            return check(env, filled, work)


def passed(report: dict[str, object]) -> bool:
    """Whether every check of a drill's report passed."""
    sizes = report.get("log_size")
    return (
        all(report.get(k) == "ok" for k in ("init", "log_audit", "storage_verify"))
        and isinstance(sizes, list)
        and sizes[0] == sizes[1]
        and report.get("certificate_unchanged") is True
        and report.get("file_unchanged") is True
    )


def main() -> None:
    """Run the drill and print its report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("PDR_TEST_DATABASE_URL", DEFAULT_POSTGRES))
    report = drill(parser.parse_args().postgres)
    print(json.dumps({"drill": "restore", "passed": passed(report), **report}, indent=2, ensure_ascii=False))
    if not passed(report):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
