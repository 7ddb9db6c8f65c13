"""deploy/compose.yaml, as Docker Compose reads it (no container runs here): valid against the Compose
Specification's JSON schema (tests/standards/compose-spec/) before and after interpolation; secrets only from the
operator's environment; `pdr init` before N read-only pdr replicas; nginx running deploy/nginx.conf as shipped (only
its upstream's address rewritten), and the object store's server in front of MinIO passing GET alone."""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from deploy import local_nginx as nginx_support
from storage.s3store import parse_s3_url
from tests.support.deploy import DEPLOY, ROOT, SECRET_SETTINGS, pdr_accepts, setting_names, settings_from
from tests.support.live import free_port, serving

COMPOSE = DEPLOY / "compose.yaml"
SCHEMA = ROOT / "tests" / "standards" / "compose-spec" / "compose-spec.json"
PDR_IMAGE_SERVICES = ("bucket", "init", "pdr")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+other}, and $NAME.
VARIABLE = re.compile(
    r"\$(?:\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)


class MissingVariable(ValueError):
    """A required variable (${NAME:?...}) is not set: Compose refuses the file."""


def _site() -> dict[str, str]:
    """What an operator's env file gives: the site's names and freshly made secrets."""
    return {
        "PDR_BASE_URL": "https://registry.example.gov.cn",
        "PDR_S3_HOST": "s3.registry.example.gov.cn",
        "PDR_TLS_DIR": "/etc/pdr/tls",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "MINIO_ROOT_USER": "pdr-objects",
        "MINIO_ROOT_PASSWORD": secrets.token_urlsafe(24),
        "PDR_SECRET_KEY": secrets.token_urlsafe(32),
        "PDR_KEY_PASSPHRASE": secrets.token_urlsafe(32),
    }


def _substitute(text: str, env: Mapping[str, str]) -> str:
    """One string interpolated as Compose does it, `$$` standing for a literal `$`."""

    def value(match: re.Match[str]) -> str:
        name = match.group("name") or match.group("bare")
        op, arg, present = match.group("op"), match.group("arg") or "", name in env
        is_set = present and (env[name] != "" or not (op or "").startswith(":"))
        if op in (":?", "?") and not is_set:
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-") and not is_set:
            return arg
        if op in (":+", "+"):
            return arg if is_set else ""
        return env.get(name, "")

    return "$".join(VARIABLE.sub(value, piece) for piece in text.split("$$"))


def _interpolated(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _substitute(node, env)
    if isinstance(node, list):
        return [_interpolated(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(item, env) for key, item in node.items()}
    return node


def _raw() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def _compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose sees it after interpolation (anchors and merge keys resolved by YAML)."""
    return _interpolated(_raw(), _site() if env is None else env)  # type: ignore[no-any-return]


def _schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert _schema_errors(_raw()) == []
    assert _schema_errors(_compose()) == []


def test_the_schema_check_refuses_what_compose_refuses() -> None:
    misspelt = copy.deepcopy(_compose())
    misspelt["services"]["pdr"]["replica"] = 2
    assert any("replica" in error for error in _schema_errors(misspelt))
    wrong_type = copy.deepcopy(_compose())
    wrong_type["services"]["nginx"]["ports"] = 443
    assert _schema_errors(wrong_type)


def test_every_secret_comes_from_the_operator_and_none_has_a_default() -> None:
    secret_names = SECRET_SETTINGS | {"POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"}
    for name, service in _raw()["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if variable in secret_names:
                match = VARIABLE.fullmatch(str(value))
                assert match and match.group("op") == ":?", f"{name}: {variable} must be ${{VAR:?...}}, not {value!r}"
    for missing in _site():
        env = {name: value for name, value in _site().items() if name != missing}
        with pytest.raises(MissingVariable, match=missing):
            _compose(env)


def test_the_replicas_run_on_settings_that_production_mode_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = _compose()
    services = compose["services"]
    environment = services["pdr"]["environment"]
    unknown = {name for name in environment if name.startswith("PDR_")} - setting_names()
    assert not unknown, f"not settings of pdr: {unknown}"
    settings = settings_from(environment, monkeypatch)
    assert settings.env == "production" and settings.unsafe_for_production() == []
    # The database and the bucket are the ones the other services make.
    database = services["postgres"]["environment"]
    assert (
        settings.db.database_url
        == f"postgresql+psycopg://{database['POSTGRES_USER']}@postgres:5432/{database['POSTGRES_DB']}"
    )
    assert environment["PGPASSWORD"] == database["POSTGRES_PASSWORD"]
    where = parse_s3_url(settings.objects.storage_url)
    assert where.endpoint == f"{_site()['PDR_S3_HOST']}:9000"
    assert _site()["PDR_S3_HOST"] in services["minio"]["networks"]["default"]["aliases"]
    assert environment["PDR_S3_SECRET_KEY"] == services["minio"]["environment"]["MINIO_ROOT_PASSWORD"]
    # Without a shared object folder nginx cannot send payloads itself: presigned redirects, or pdr streams them.
    assert settings.objects.download_mode == "auto"
    assert services["bucket"]["environment"]["PDR_STORAGE_URL"] == settings.objects.storage_url


def test_init_runs_before_the_read_only_replicas_and_nginx_after_them() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "minio", "bucket", "init", "pdr", "nginx"}
    images = {services[name]["image"] for name in PDR_IMAGE_SERVICES}
    assert len(images) == 1
    assert services["init"]["command"] == ["init"] and services["pdr"]["command"][0] == "serve"
    for name in ("init", "pdr"):
        pdr_accepts(services[name]["command"])
    conditions = {
        name: {on: rule["condition"] for on, rule in service.get("depends_on", {}).items()}
        for name, service in services.items()
    }
    assert conditions["bucket"] == {"minio": "service_healthy"}
    assert conditions["init"] == {"postgres": "service_healthy", "bucket": "service_completed_successfully"}
    assert conditions["pdr"]["init"] == "service_completed_successfully"
    assert conditions["nginx"] == {"pdr": "service_healthy"}
    assert int(services["pdr"]["deploy"]["replicas"]) >= 2
    for name in PDR_IMAGE_SERVICES:
        assert services[name]["read_only"] is True and services[name]["cap_drop"] == ["ALL"]
        assert any(mount.split(":")[0] == "/tmp" for mount in services[name]["tmpfs"])
    build = services["pdr"]["build"]
    assert (COMPOSE.parent / build["context"]).resolve() == ROOT
    assert (ROOT / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_pdr_trusts_forwarded_addresses_from_nginx_alone() -> None:
    compose = _compose()
    nginx_address = ip_address(compose["services"]["nginx"]["networks"]["default"]["ipv4_address"])
    assert compose["services"]["pdr"]["environment"]["FORWARDED_ALLOW_IPS"] == str(nginx_address)
    (pool,) = compose["networks"]["default"]["ipam"]["config"]
    # Inside the network, outside the range replicas are given addresses from: no replica can take it.
    assert nginx_address in ip_network(pool["subnet"]) and nginx_address not in ip_network(pool["ip_range"])


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Target path in the container -> source (a path relative to deploy/, or a volume's name)."""
    return {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}


def test_nginx_runs_the_shipped_configuration_with_only_its_upstream_rewritten() -> None:
    services = _compose()["services"]
    nginx = services["nginx"]
    script = nginx["command"][-1]
    mounts = _mounts(nginx)
    (shipped_target,) = [target for target, source in mounts.items() if source == "./nginx.conf"]
    assert (COMPOSE.parent / "nginx.conf").resolve() == nginx_support.SHIPPED
    sed = re.search(r"sed -e 's/(?P<find>[^/]+)/(?P<put>[^/]+)/' (?P<source>\S+) > (?P<output>\S+)", script)
    assert sed and sed["source"] == shipped_target and sed["output"].startswith("/etc/nginx/conf.d/")
    shipped = nginx_support.SHIPPED.read_text()
    rendered, count = re.subn(sed["find"], sed["put"], shipped)
    assert count == 1, "the rewritten line must be in deploy/nginx.conf exactly once"
    assert f"grep -c '{sed['find'].replace(chr(92), '')}' {shipped_target}" in script
    command = services["pdr"]["command"]
    assert f"server pdr:{command[command.index('--port') + 1]};" in rendered
    # What the shipped file reads from disk is mounted where it looks.
    certificate = re.search(r"ssl_certificate\s+(\S+);", shipped)
    assert certificate and mounts.get(str(Path(certificate[1]).parent)) == _site()["PDR_TLS_DIR"]
    tiles = re.search(r"proxy_cache_path\s+(\S+)", shipped)
    assert tiles and mounts.get(tiles[1]) == "tiles"
    assert nginx["ports"] == ["443:443", "9000:9000"]


def _object_store_server(upstream_port: int, port: int) -> str:
    """The compose file's object-store server block, listening and proxying on this machine's ports."""
    text: str = _compose()["configs"]["object-store"]["content"]
    for shipped, here in {
        "listen 9000;": f"listen 127.0.0.1:{port};",
        "http://minio:9000": f"http://127.0.0.1:{upstream_port}",
    }.items():
        assert text.count(shipped) == 1, shipped
        text = text.replace(shipped, here)
    return text


def _echo_host(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"{request.method} {request.headers['host']} {request.url.path}")


@pytest.fixture
def object_store_front(tmp_path: Path) -> Iterator[str]:
    """nginx on the object-store server block, in front of a server that echoes what reached it."""
    nginx = nginx_support.nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    echo = Starlette(routes=[Route("/{path:path}", _echo_host, methods=["GET", "HEAD", "PUT", "POST", "DELETE"])])
    with serving(echo) as upstream:
        port = free_port()
        (tmp_path / "pdr.conf").write_text(_object_store_server(int(upstream.rsplit(":", 1)[1]), port))
        main = tmp_path / "nginx.conf"
        # As root, nginx's workers would drop to nobody, who cannot write a test's private folder.
        main.write_text(nginx_support.MAIN.format(user="user root;" if os.geteuid() == 0 else "", work=tmp_path))
        rendered = nginx_support.Rendered(main=main, work=tmp_path, port=port, certificate=tmp_path / "none")
        checked = nginx_support.check(nginx, rendered)
        assert checked.returncode == 0, checked.stderr
        with nginx_support.running(nginx, rendered):
            yield f"http://127.0.0.1:{port}"


def test_the_object_store_server_passes_presigned_gets_with_their_host_and_refuses_writes(
    object_store_front: str,
) -> None:
    """A presigned URL is signed with its Host, which must reach MinIO unchanged; nothing but reads gets through."""
    host = "s3.registry.example.gov.cn:9000"
    url = f"{object_store_front}/pdr/objects/ab/cd/abcd?X-Amz-Signature=0"
    got = httpx.get(url, headers={"Host": host}, timeout=30)
    assert (got.status_code, got.text) == (200, f"GET {host} /pdr/objects/ab/cd/abcd")
    assert httpx.head(url, headers={"Host": host}, timeout=30).status_code == 200
    for method in ("PUT", "POST", "DELETE"):
        refused = httpx.request(method, url, headers={"Host": host}, content=b"x", timeout=30)
        assert refused.status_code == 403, method
