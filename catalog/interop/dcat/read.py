"""Reading DCAT (Turtle, JSON-LD, RDF/XML) into import records: every dcat:Dataset of a graph."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS
from rdflib.term import Node

from catalog.datasets.schemas import DatasetFields
from catalog.interop.dcat.vocabulary import (
    ACCESS_RIGHTS,
    FREQUENCIES,
    IANA,
)
from catalog.interop.records import (
    ImportRecord,
    RecordError,
    http_url,
    parse_time,
    validation_message,
    without_control_characters,
)
from catalog.search.formats import normalise_format
from registry.enums import Openness, Theme


def read_dcat(path: Path, rdf_format: str) -> Iterator[ImportRecord | RecordError]:
    """The dcat:Dataset resources of an RDF file."""
    graph = Graph()
    try:
        graph.parse(path, format=rdf_format)
    except Exception as exc:  # rdflib raises many parser types; any of them means the file is unreadable
        yield RecordError(f"{path.name}: cannot be parsed as {rdf_format} ({exc})")
        return
    yield from dcat_records(graph)


def _texts(graph: Graph, node: Node, predicate: URIRef) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in graph.objects(node, predicate):
        if isinstance(value, Literal):
            found.setdefault((value.language or "").lower(), str(value))
    return found


def _pick(texts: dict[str, str], *langs: str) -> str | None:
    for lang in langs:
        for key, value in texts.items():
            if key == lang or key.startswith(lang + "-"):
                return value
    return next(iter(texts.values()), None)


def _one(graph: Graph, node: Node, predicate: URIRef) -> Node | None:
    return next(iter(graph.objects(node, predicate)), None)


def _local(node: Node | None) -> str:
    return str(node).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] if node is not None else ""


def _date_of(value: Node | None) -> date | None:
    if not isinstance(value, Literal):
        return None
    raw = str(value)
    try:
        return date(int(raw), 1, 1) if re.fullmatch(r"\d{4}", raw) else date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", value.lower()).strip("-")[:100]
    return slug if len(slug) >= 2 and slug[0].isalnum() else ""


_ACCESS_BY_IRI = {str(iri): level for level, iri in ACCESS_RIGHTS.items()}
_FREQUENCY_BY_IRI = {str(iri): cycle for cycle, iri in FREQUENCIES.items()}


def dcat_records(graph: Graph) -> Iterator[ImportRecord | RecordError]:
    """Import records (or errors) for every dcat:Dataset of a graph."""
    for node in sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str):
        where = str(node)
        identifier = _pick(_texts(graph, node, DCTERMS.identifier), "")
        name = _slug(identifier or "") or _slug(_local(node))
        if not name:
            yield RecordError(f"{where}: no usable dct:identifier to name the dataset")
            continue
        try:
            fields = DatasetFields.model_validate(_fields(graph, node))
            distributions = [
                link
                for dist in sorted(graph.objects(node, DCAT.distribution), key=str)
                if (link := _distribution(graph, dist)) is not None
            ]
            record = ImportRecord(
                where=where,
                name=name,
                fields=fields,
                publisher=_publisher(graph, node),
                state="published",
                distributions=distributions,
                modified_at=_as_datetime(_one(graph, node, DCTERMS.modified)),
                issued_at=_as_datetime(_one(graph, node, DCTERMS.issued)),
            )
            yield without_control_characters(record)
        except ValidationError as exc:
            yield RecordError(f"{where}: {validation_message(exc)}")
        except RecordError as exc:
            yield RecordError(f"{where}: {exc}")


def _fields(graph: Graph, node: Node) -> dict[str, Any]:
    """The catalog metadata a dcat:Dataset describes, still to be validated."""
    titles = _texts(graph, node, DCTERMS.title)
    title = _pick(titles, "zh", "")
    period = _one(graph, node, DCTERMS.temporal)
    spatial = _one(graph, node, DCTERMS.spatial)
    spatial_text = None
    if isinstance(spatial, Literal):
        spatial_text = str(spatial)
    elif spatial is not None:
        spatial_text = _pick(_texts(graph, spatial, SKOS.prefLabel), "zh", "") or str(spatial)
    licence_node = _one(graph, node, DCTERMS.license)
    return {
        "title": title,
        "title_en": titles.get("en") if title != titles.get("en") else None,
        "description": _pick(_texts(graph, node, DCTERMS.description), "zh", "") or "",
        "keywords": list(dict.fromkeys(str(k) for k in graph.objects(node, DCAT.keyword))),
        "themes": [t for t in (_local(x) for x in graph.objects(node, DCAT.theme)) if t in Theme.__members__],
        "licence": str(licence_node)[:100] if licence_node is not None else None,
        "access": _ACCESS_BY_IRI.get(str(_one(graph, node, DCTERMS.accessRights)), Openness.unconditional.value),
        "temporal_start": _date_of(_one(graph, period, DCAT.startDate)) if period is not None else None,
        "temporal_end": _date_of(_one(graph, period, DCAT.endDate)) if period is not None else None,
        "spatial": spatial_text[:300] if spatial_text else None,
        "update_frequency": _FREQUENCY_BY_IRI.get(str(_one(graph, node, DCTERMS.accrualPeriodicity))),
        "landing_page": str(_one(graph, node, DCAT.landingPage) or "") or None,
    }


def _publisher(graph: Graph, node: Node) -> str | None:
    """How the dataset names its publisher: its identifier, its name, or the last segment of its IRI."""
    publisher = _one(graph, node, DCTERMS.publisher)
    if publisher is None:
        return None
    found = _pick(_texts(graph, publisher, DCTERMS.identifier), "") or _pick(
        _texts(graph, publisher, FOAF.name), "zh", ""
    )
    if found is None and isinstance(publisher, URIRef):
        found = _local(publisher)
    return found


def _distribution(graph: Graph, dist: Node) -> dict[str, Any] | None:
    """A dcat:Distribution as a link; None without an http(s) URL, a RecordError when that URL is not valid."""
    node = _one(graph, dist, DCAT.accessURL) or _one(graph, dist, DCAT.downloadURL)
    url = http_url(node, f"distribution {dist}") if node is not None else None
    if url is None:
        return None
    media = _one(graph, dist, DCAT.mediaType)
    media_type = str(media).removeprefix(IANA) if media is not None else None
    fmt = _local(_one(graph, dist, DCTERMS.format)) or media_type
    return {
        "name": (_pick(_texts(graph, dist, DCTERMS.title), "zh", "") or str(url))[:300],
        "url": str(url)[:2000],
        "format": normalise_format(fmt),
        "media_type": media_type[:200] if media_type else None,
        "description": None,
    }


def _as_datetime(value: Node | None) -> datetime | None:
    return parse_time(str(value)) if isinstance(value, Literal) else None
