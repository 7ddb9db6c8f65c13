"""HTTP reads of the transparency log: C2SP checkpoint and tiles, and JSON proofs in RFC 9162 order."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from auth.dependencies import DbSession
from registry import log
from registry.merkle import leaf_hash
from registry.verifier import trust_document

router = APIRouter(tags=["transparency log"])

# Full tiles never change once written; the checkpoint and partial tiles do.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@router.get("/.well-known/pdr-trust.json")
def trust(request: Request, session: DbSession) -> dict[str, Any]:
    """What an offline verifier needs: the log's origin and key, the issuer keys, the status list."""
    return trust_document(session, request.app.state.settings)


@router.get("/log/checkpoint", response_class=Response)
def checkpoint(session: DbSession) -> Response:
    """The latest signed checkpoint, as a C2SP signed note."""
    latest = log.current_checkpoint(session)
    return Response(latest.note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": REVALIDATE})


@router.get("/log/tile/{tile:path}", response_class=Response)
def tile(tile: str, session: DbSession) -> Response:
    """A hash tile or an entry bundle, by its C2SP tlog-tiles path."""
    data, partial = log.read_tile(session, tile)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Cache-Control": REVALIDATE if partial else IMMUTABLE},
    )


@router.get("/api/v1/log/entries/{index}")
def read_entry(index: int, session: DbSession) -> dict[str, Any]:
    """One log entry: its envelope, its exact bytes and its leaf hash."""
    found = log.entry(session, index)
    return {
        "index": found.idx,
        "kind": found.kind,
        "subject": found.subject,
        "at": found.at,
        "envelope": json.loads(found.data),
        "data": _b64(found.data),
        "leaf_hash": _b64(leaf_hash(found.data)),
    }


@router.get("/api/v1/log/proofs/inclusion")
def inclusion_proof(
    session: DbSession,
    index: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """The inclusion proof of a leaf in a signed tree (the latest when tree_size is not given)."""
    size = tree_size or log.signed_size(session)
    hashes = log.inclusion(session, index, size)
    return {
        "index": index,
        "tree_size": size,
        "root_hash": _b64(log.tree_root(session, size)),
        "hashes": [_b64(h) for h in hashes],
    }


@router.get("/api/v1/log/proofs/consistency")
def consistency_proof(
    session: DbSession,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """The consistency proof between two signed tree sizes (the latest when second is not given)."""
    size = second or log.signed_size(session)
    hashes = log.consistency(session, first, size)
    return {"first": first, "second": size, "hashes": [_b64(h) for h in hashes]}
