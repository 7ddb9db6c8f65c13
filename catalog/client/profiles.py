"""Where `pdrc` finds its server and token: flags, then `PDR_CLIENT_*` variables, then a profile in the user's
config folder (`~/.config/pdr/profiles.json`, readable by its owner only)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from catalog.client.errors import ClientError

DEFAULT_PROFILE = "default"
ENV_CONFIG = "PDR_CLIENT_CONFIG"
ENV_PROFILE = "PDR_CLIENT_PROFILE"
ENV_URL = "PDR_CLIENT_URL"
ENV_TOKEN = "PDR_CLIENT_TOKEN"  # noqa: S105 - the variable's name, not a secret


@dataclass(frozen=True)
class Profile:
    """A server and, once signed in, an API token (and its id, to revoke it at sign-out)."""

    name: str
    url: str
    token: str | None = None
    token_id: str | None = None


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """The profiles file: PDR_CLIENT_CONFIG, or profiles.json in the user's config folder for pdr."""
    override = environ.get(ENV_CONFIG)
    return Path(override) if override else Path(typer.get_app_dir("pdr")) / "profiles.json"


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"profiles": {}}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ClientError(f"{path} cannot be read as JSON: fix or delete it") from error
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ClientError(f"{path} is not a profiles file: fix or delete it")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    """Write the file atomically, readable and writable by its owner alone: it holds tokens."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(data, out, indent=2, ensure_ascii=False)
    os.replace(temporary, path)


def resolve(name: str | None, url: str | None, token: str | None, environ: Mapping[str, str] = os.environ) -> Profile:
    """The profile to use: each of server and token from the flag, else the environment, else the profile file."""
    chosen = name or environ.get(ENV_PROFILE) or DEFAULT_PROFILE
    stored = _read(config_path(environ))["profiles"].get(chosen) or {}
    server = url or environ.get(ENV_URL) or stored.get("url")
    if not server:
        raise ClientError(f"no server for profile {chosen!r}: run `pdrc login --url URL` or set {ENV_URL}")
    secret = token or environ.get(ENV_TOKEN) or stored.get("token")
    # A token given by flag or environment is not the stored one: its stored id would revoke the wrong token.
    token_id = stored.get("token_id") if secret == stored.get("token") else None
    return Profile(chosen, server.rstrip("/"), secret, token_id)


def remember(profile: Profile, environ: Mapping[str, str] = os.environ) -> Path:
    """Store the profile (its token too); returns the file it went to."""
    path = config_path(environ)
    data = _read(path)
    entry = {"url": profile.url, "token": profile.token, "token_id": profile.token_id}
    data["profiles"][profile.name] = {k: v for k, v in entry.items() if v}
    _write(path, data)
    return path


def forget_token(name: str, environ: Mapping[str, str] = os.environ) -> None:
    """Drop the profile's token, keeping its server."""
    path = config_path(environ)
    data = _read(path)
    entry = data["profiles"].get(name)
    if entry:
        entry.pop("token", None)
        entry.pop("token_id", None)
        _write(path, data)
