"""HTTP routes of the DCAT-AP 3 views: the catalog page by page, and each public dataset, in Turtle or JSON-LD."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from auth.dependencies import DbSession
from catalog.web.dependencies import BaseUrl, CatalogConfig
from storage.exceptions import NotFound

router = APIRouter(prefix="/dcat", tags=["dcat"])
MEDIA_TYPE = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json; charset=utf-8"}


Page = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/catalog.ttl")
def catalog_turtle(session: DbSession, base: BaseUrl, settings: CatalogConfig, page: Page = 1) -> Response:
    """The public catalog in Turtle, one page at a time (hydra:PartialCollectionView links the pages)."""
    # The writer, and rdflib with it, is imported at the first DCAT request rather than by every worker.
    from catalog.interop.dcat.write import catalog_graph, serialize

    return Response(serialize(catalog_graph(session, base, settings, page), "ttl"), media_type=MEDIA_TYPE["ttl"])


@router.get("/catalog.jsonld")
def catalog_jsonld(session: DbSession, base: BaseUrl, settings: CatalogConfig, page: Page = 1) -> Response:
    """The public catalog in JSON-LD, one page at a time."""
    from catalog.interop.dcat.write import catalog_graph, serialize

    graph = catalog_graph(session, base, settings, page, "jsonld")
    return Response(serialize(graph, "jsonld"), media_type=MEDIA_TYPE["jsonld"])


@router.get("/datasets/{document}")
def dataset_document(document: str, session: DbSession, base: BaseUrl, settings: CatalogConfig) -> Response:
    """One public dataset: ``{id}.ttl`` or ``{id}.jsonld``."""
    dataset_id, _, fmt = document.rpartition(".")
    if fmt not in MEDIA_TYPE or not dataset_id:
        raise NotFound("ask for {id}.ttl or {id}.jsonld")
    from catalog.interop.dcat.write import dataset_graph, serialize

    graph = dataset_graph(session, base, settings, dataset_id)
    return Response(serialize(graph, fmt), media_type=MEDIA_TYPE[fmt])
