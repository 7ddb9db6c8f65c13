"""DCAT-AP 3 views of the public catalog (Turtle and JSON-LD), and the reverse mapping for the importer."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD
from rdflib.term import Node
from sqlalchemy import text
from sqlmodel import Session, col, select

from auth.dependencies import DbSession
from catalog import search
from catalog.config import CatalogSettings
from catalog.datasets import is_public, present
from catalog.models import Dataset
from catalog.schemas import DatasetFields, DatasetPublic
from registry.enums import THEME_LABELS_ZH, Openness, Theme, UpdateCycle
from storage.exceptions import FieldProblem, InvalidInput, NotFound

ADMS = Namespace("http://www.w3.org/ns/adms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
EU_ACCESS = Namespace("http://publications.europa.eu/resource/authority/access-right/")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
IANA = "https://www.iana.org/assignments/media-types/"
# DCAT 3 terms rdflib's closed DCAT 2 namespace does not know.
DCAT_VERSION = URIRef(str(DCAT) + "version")

ACCESS_RIGHTS = {
    Openness.unconditional.value: EU_ACCESS.PUBLIC,
    Openness.conditional.value: EU_ACCESS.RESTRICTED,
    Openness.not_open.value: EU_ACCESS.NON_PUBLIC,
}
FREQUENCIES = {
    UpdateCycle.realtime.value: EU_FREQUENCY.UPDATE_CONT,
    UpdateCycle.daily.value: EU_FREQUENCY.DAILY,
    UpdateCycle.weekly.value: EU_FREQUENCY.WEEKLY,
    UpdateCycle.monthly.value: EU_FREQUENCY.MONTHLY,
    UpdateCycle.quarterly.value: EU_FREQUENCY.QUARTERLY,
    UpdateCycle.yearly.value: EU_FREQUENCY.ANNUAL,
    UpdateCycle.irregular.value: EU_FREQUENCY.IRREG,
    UpdateCycle.static.value: EU_FREQUENCY.NEVER,
}
LICENCES = {
    "cc-by": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-zero": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "odc-by": "https://opendatacommons.org/licenses/by/1-0/",
    "odc-odbl": "https://opendatacommons.org/licenses/odbl/1-0/",
    "odc-pddl": "https://opendatacommons.org/licenses/pddl/1-0/",
}
MEDIA_TYPES = {
    "CSV": "text/csv",
    "JSON": "application/json",
    "XML": "application/xml",
    "XLS": "application/vnd.ms-excel",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "PDF": "application/pdf",
    "ZIP": "application/zip",
    "GEOJSON": "application/geo+json",
    "TXT": "text/plain",
    "HTML": "text/html",
}
JSONLD_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "skos": str(SKOS),
    "adms": str(ADMS),
    "hydra": str(HYDRA),
    "spdx": str(SPDX),
    "xsd": str(XSD),
}
MEDIA_TYPE = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json; charset=utf-8"}

router = APIRouter(prefix="/dcat", tags=["dcat"])


# ---------------------------------------------------------------- building graphs


class _Builder:
    """Adds the DCAT-AP description of datasets to one graph."""

    def __init__(self, base_url: str, settings: CatalogSettings) -> None:
        self.base = base_url.rstrip("/")
        self.settings = settings
        self.graph = Graph()
        for prefix, uri in JSONLD_CONTEXT.items():
            self.graph.bind(prefix, uri)
        self.agents: set[str] = set()

    def iri(self, path: str) -> URIRef:
        return URIRef(f"{self.base}{path}")

    def catalog(self, page: int, pages: int, total: int, datasets: Sequence[DatasetPublic], ext: str) -> URIRef:
        g = self.graph
        catalog = self.iri("/dcat/catalog")
        g.add((catalog, RDF.type, DCAT.Catalog))
        g.add((catalog, DCTERMS.title, Literal(self.settings.catalog_title, lang="zh")))
        g.add((catalog, DCTERMS.title, Literal(self.settings.catalog_title_en, lang="en")))
        g.add((catalog, DCTERMS.description, Literal(self.settings.catalog_description, lang="zh")))
        g.add((catalog, FOAF.homepage, URIRef(self.base + "/")))
        registry = self.iri("/dcat/publisher")
        g.add((catalog, DCTERMS.publisher, registry))
        g.add((registry, RDF.type, FOAF.Agent))
        g.add((registry, FOAF.name, Literal(self.settings.catalog_publisher_name, lang="zh")))
        g.add((catalog, DCAT.themeTaxonomy, self.iri("/dcat/themes")))
        self._theme_scheme()
        for dataset in datasets:
            g.add((catalog, DCAT.dataset, self.dataset(dataset)))
        view = URIRef(f"{catalog}.{ext}?page={page}")
        g.add((catalog, HYDRA.totalItems, Literal(total, datatype=XSD.nonNegativeInteger)))
        g.add((catalog, HYDRA.view, view))
        g.add((view, RDF.type, HYDRA.PartialCollectionView))
        g.add((view, HYDRA.first, URIRef(f"{catalog}.{ext}?page=1")))
        g.add((view, HYDRA.last, URIRef(f"{catalog}.{ext}?page={pages}")))
        if page > 1:
            g.add((view, HYDRA.previous, URIRef(f"{catalog}.{ext}?page={page - 1}")))
        if page < pages:
            g.add((view, HYDRA.next, URIRef(f"{catalog}.{ext}?page={page + 1}")))
        return catalog

    def _theme_scheme(self) -> None:
        g = self.graph
        scheme = self.iri("/dcat/themes")
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.add((scheme, DCTERMS.title, Literal("产业主题", lang="zh")))

    def _agent(self, publisher_id: str, name: str, name_en: str | None) -> URIRef:
        agent = self.iri(f"/api/v1/entities/{publisher_id}")
        if publisher_id not in self.agents:
            self.agents.add(publisher_id)
            self.graph.add((agent, RDF.type, FOAF.Agent))
            self.graph.add((agent, RDF.type, FOAF.Organization))
            self.graph.add((agent, FOAF.name, Literal(name, lang="zh")))
            if name_en:
                self.graph.add((agent, FOAF.name, Literal(name_en, lang="en")))
            self.graph.add((agent, DCTERMS.identifier, Literal(publisher_id)))
        return agent

    def dataset(self, d: DatasetPublic) -> URIRef:
        g = self.graph
        node = self.iri(f"/dcat/datasets/{d.id}")
        g.add((node, RDF.type, DCAT.Dataset))
        g.add((node, DCTERMS.identifier, Literal(d.name)))
        g.add((node, DCTERMS.title, Literal(d.title, lang="zh")))
        if d.title_en:
            g.add((node, DCTERMS.title, Literal(d.title_en, lang="en")))
        # DCAT-AP requires a description; a dataset without one is described by its title.
        g.add((node, DCTERMS.description, Literal(d.description or d.title, lang="zh")))
        for keyword in d.keywords:
            g.add((node, DCAT.keyword, Literal(keyword, lang="zh")))
        for theme in d.themes:
            concept = self.iri(f"/dcat/themes/{theme}")
            g.add((node, DCAT.theme, concept))
            g.add((concept, RDF.type, SKOS.Concept))
            g.add((concept, SKOS.prefLabel, Literal(THEME_LABELS_ZH[Theme(theme)], lang="zh")))
            g.add((concept, SKOS.notation, Literal(theme)))
            g.add((concept, SKOS.inScheme, self.iri("/dcat/themes")))
        if d.themes:
            self._theme_scheme()
        g.add((node, DCTERMS.publisher, self._agent(d.publisher.id, d.publisher.name, d.publisher.name_en)))
        g.add((node, DCTERMS.accessRights, ACCESS_RIGHTS[d.access]))
        licence = self._licence(d.licence)
        if d.update_frequency in FREQUENCIES:
            g.add((node, DCTERMS.accrualPeriodicity, FREQUENCIES[d.update_frequency]))
        if d.temporal_start or d.temporal_end:
            period = BNode()
            g.add((node, DCTERMS.temporal, period))
            g.add((period, RDF.type, DCTERMS.PeriodOfTime))
            if d.temporal_start:
                g.add((period, DCAT.startDate, Literal(d.temporal_start, datatype=XSD.date)))
            if d.temporal_end:
                g.add((period, DCAT.endDate, Literal(d.temporal_end, datatype=XSD.date)))
        if d.spatial:
            place = BNode()
            g.add((node, DCTERMS.spatial, place))
            g.add((place, RDF.type, DCTERMS.Location))
            g.add((place, SKOS.prefLabel, Literal(d.spatial, lang="zh")))
        if d.issued_at:
            g.add((node, DCTERMS.issued, _datetime(d.issued_at)))
        g.add((node, DCTERMS.modified, _datetime(d.modified_at)))
        g.add((node, DCAT_VERSION, Literal(str(d.version))))
        if d.landing_page:
            g.add((node, DCAT.landingPage, URIRef(d.landing_page)))
        if d.registry is not None:
            identifier = BNode()
            g.add((node, ADMS.identifier, identifier))
            g.add((identifier, RDF.type, ADMS.Identifier))
            g.add((identifier, SKOS.notation, Literal(d.registry.resource_code)))
        for distribution in d.distributions:
            dist = self.iri(f"/dcat/distributions/{distribution.id}")
            g.add((node, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(distribution.name, lang="zh")))
            g.add((dist, DCAT.accessURL, URIRef(distribution.url)))
            g.add((dist, DCAT.downloadURL, URIRef(distribution.url)))
            if distribution.description:
                g.add((dist, DCTERMS.description, Literal(distribution.description, lang="zh")))
            if distribution.format:
                g.add((dist, DCTERMS.format, EU_FILE_TYPE[distribution.format]))
            media = distribution.media_type or MEDIA_TYPES.get(distribution.format or "")
            if media and re.fullmatch(r"[\w.+-]+/[\w.+-]+", media):
                g.add((dist, DCAT.mediaType, URIRef(IANA + media)))
            if licence is not None:
                g.add((dist, DCTERMS.license, licence))
            g.add((dist, DCTERMS.issued, _datetime(distribution.created_at)))
        for version in d.versions or []:
            if version.state != "published":
                continue
            for file in version.files:
                dist = self.iri(f"/dcat/files/{file.id}")
                content = self.iri(f"/api/v1/datasets/{d.id}/files/{file.id}/content")
                g.add((node, DCAT.distribution, dist))
                g.add((dist, RDF.type, DCAT.Distribution))
                g.add((dist, DCTERMS.title, Literal(f"{file.name} (v{file.version})")))
                g.add((dist, DCAT.accessURL, content))
                g.add((dist, DCAT.downloadURL, content))
                g.add((dist, DCAT.byteSize, Literal(file.size, datatype=XSD.nonNegativeInteger)))
                if re.fullmatch(r"[\w.+-]+/[\w.+-]+", file.media_type):
                    g.add((dist, DCAT.mediaType, URIRef(IANA + file.media_type)))
                checksum = BNode()
                g.add((dist, SPDX.checksum, checksum))
                g.add((checksum, RDF.type, SPDX.Checksum))
                g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
                g.add((checksum, SPDX.checksumValue, Literal(file.sha256, datatype=XSD.hexBinary)))
                if licence is not None:
                    g.add((dist, DCTERMS.license, licence))
        return node

    def _licence(self, licence: str | None) -> URIRef | None:
        if not licence:
            return None
        if re.fullmatch(r"https?://\S+", licence):
            iri = URIRef(licence)
        elif licence.lower() in LICENCES:
            iri = URIRef(LICENCES[licence.lower()])
        else:
            iri = self.iri(f"/dcat/licences/{re.sub(r'[^A-Za-z0-9._-]', '-', licence)}")
        self.graph.add((iri, RDF.type, DCTERMS.LicenseDocument))
        return iri


def _datetime(moment: datetime) -> Literal:
    return Literal(moment.isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)


def serialize(graph: Graph, fmt: str) -> str:
    """Turtle or compact JSON-LD."""
    if fmt == "jsonld":
        return str(graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True, ensure_ascii=False))
    return str(graph.serialize(format="turtle"))


def public_page(session: Session, page: int, size: int) -> tuple[list[Dataset], int]:
    """One page of the public catalog in a stable order (the order datasets entered the index), and the total."""
    connection = session.connection()
    public = "s.state = 'published' AND s.access <> 'not_open'"
    total = int(connection.execute(text(f"SELECT count(*) FROM dataset_search s WHERE {public}")).scalar_one())  # noqa: S608
    rows = connection.execute(
        text(f"SELECT s.dataset_id FROM dataset_search s WHERE {public} ORDER BY s.doc LIMIT :l OFFSET :o"),  # noqa: S608
        {"l": size, "o": (page - 1) * size},
    ).all()
    ids = [str(r[0]) for r in rows]
    found = {d.id: d for d in session.exec(select(Dataset).where(col(Dataset.id).in_(ids)))}
    return [found[i] for i in ids if i in found], total


def catalog_graph(session: Session, base_url: str, settings: CatalogSettings, page: int, ext: str = "ttl") -> Graph:
    """The DCAT-AP catalog document for one page of public datasets."""
    size = settings.dcat_page_size
    datasets, total = public_page(session, page, size)
    pages = max(1, -(-total // size))
    if page > pages:
        raise InvalidInput(f"the catalog has {pages} pages", errors=[FieldProblem("page", f"at most {pages}")])
    builder = _Builder(base_url, settings)
    builder.catalog(page, pages, total, present(session, datasets, detail=True), ext)
    return builder.graph


def dataset_graph(session: Session, base_url: str, settings: CatalogSettings, dataset_id: str) -> Graph:
    """The DCAT-AP description of one public dataset."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or not is_public(session, dataset):
        raise NotFound("no such dataset")
    builder = _Builder(base_url, settings)
    builder.dataset(present(session, [dataset], detail=True)[0])
    return builder.graph


# ---------------------------------------------------------------- routes


def _settings(request: Request) -> tuple[str, CatalogSettings]:
    settings = request.app.state.settings
    return str(settings.base_url), settings.catalog


Page = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/catalog.ttl")
def catalog_turtle(request: Request, session: DbSession, page: Page = 1) -> Response:
    """The public catalog in Turtle, one page at a time (hydra:PartialCollectionView links the pages)."""
    base, settings = _settings(request)
    return Response(serialize(catalog_graph(session, base, settings, page), "ttl"), media_type=MEDIA_TYPE["ttl"])


@router.get("/catalog.jsonld")
def catalog_jsonld(request: Request, session: DbSession, page: Page = 1) -> Response:
    """The public catalog in JSON-LD, one page at a time."""
    base, settings = _settings(request)
    graph = catalog_graph(session, base, settings, page, "jsonld")
    return Response(serialize(graph, "jsonld"), media_type=MEDIA_TYPE["jsonld"])


@router.get("/datasets/{document}")
def dataset_document(document: str, request: Request, session: DbSession) -> Response:
    """One public dataset: ``{id}.ttl`` or ``{id}.jsonld``."""
    dataset_id, _, fmt = document.rpartition(".")
    if fmt not in MEDIA_TYPE or not dataset_id:
        raise NotFound("ask for {id}.ttl or {id}.jsonld")
    base, settings = _settings(request)
    graph = dataset_graph(session, base, settings, dataset_id)
    return Response(serialize(graph, fmt), media_type=MEDIA_TYPE[fmt])


# ---------------------------------------------------------------- reading DCAT (the importer)


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


def dcat_records(graph: Graph) -> Iterator[Any]:
    """Import records (or errors) for every dcat:Dataset of a graph."""
    from pydantic import ValidationError

    from catalog.importer import ImportRecord, RecordError, _validation_message

    access_by_iri = {str(v): k for k, v in ACCESS_RIGHTS.items()}
    frequency_by_iri = {str(v): k for k, v in FREQUENCIES.items()}
    for node in sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str):
        where = str(node)
        identifier = _pick(_texts(graph, node, DCTERMS.identifier), "")
        name = _slug(identifier or "") or _slug(_local(node))
        if not name:
            yield RecordError(f"{where}: no usable dct:identifier to name the dataset")
            continue
        titles = _texts(graph, node, DCTERMS.title)
        title = _pick(titles, "zh", "")
        period = _one(graph, node, DCTERMS.temporal)
        spatial = _one(graph, node, DCTERMS.spatial)
        spatial_text = None
        if isinstance(spatial, Literal):
            spatial_text = str(spatial)
        elif spatial is not None:
            spatial_text = _pick(_texts(graph, spatial, SKOS.prefLabel), "zh", "") or str(spatial)
        publisher = _one(graph, node, DCTERMS.publisher)
        publisher_ref = None
        if publisher is not None:
            publisher_ref = _pick(_texts(graph, publisher, DCTERMS.identifier), "") or _pick(
                _texts(graph, publisher, FOAF.name), "zh", ""
            )
            if publisher_ref is None and isinstance(publisher, URIRef):
                publisher_ref = _local(publisher)
        licence_node = _one(graph, node, DCTERMS.license)
        raw = {
            "title": title,
            "title_en": titles.get("en") if title != titles.get("en") else None,
            "description": _pick(_texts(graph, node, DCTERMS.description), "zh", "") or "",
            "keywords": list(dict.fromkeys(str(k) for k in graph.objects(node, DCAT.keyword))),
            "themes": [t for t in (_local(x) for x in graph.objects(node, DCAT.theme)) if t in Theme.__members__],
            "licence": str(licence_node)[:100] if licence_node is not None else None,
            "access": access_by_iri.get(str(_one(graph, node, DCTERMS.accessRights)), Openness.unconditional.value),
            "temporal_start": _date_of(_one(graph, period, DCAT.startDate)) if period is not None else None,
            "temporal_end": _date_of(_one(graph, period, DCAT.endDate)) if period is not None else None,
            "spatial": spatial_text[:300] if spatial_text else None,
            "update_frequency": frequency_by_iri.get(str(_one(graph, node, DCTERMS.accrualPeriodicity))),
            "landing_page": str(_one(graph, node, DCAT.landingPage) or "") or None,
        }
        try:
            fields = DatasetFields.model_validate(raw)
        except ValidationError as exc:
            yield RecordError(f"{where}: {_validation_message(exc)}")
            continue
        distributions = []
        for dist in sorted(graph.objects(node, DCAT.distribution), key=str):
            url = _one(graph, dist, DCAT.accessURL) or _one(graph, dist, DCAT.downloadURL)
            if url is None or not re.fullmatch(r"https?://\S+", str(url)):
                continue
            media = _one(graph, dist, DCAT.mediaType)
            media_type = str(media).removeprefix(IANA) if media is not None else None
            fmt = _local(_one(graph, dist, DCTERMS.format)) or media_type
            distributions.append(
                {
                    "name": (_pick(_texts(graph, dist, DCTERMS.title), "zh", "") or str(url))[:300],
                    "url": str(url)[:2000],
                    "format": search.normalise_format(fmt),
                    "media_type": media_type[:200] if media_type else None,
                    "description": None,
                }
            )
        modified = _one(graph, node, DCTERMS.modified)
        issued = _one(graph, node, DCTERMS.issued)
        yield ImportRecord(
            where=where,
            name=name,
            fields=fields,
            publisher=publisher_ref,
            state="published",
            distributions=distributions,
            modified_at=_as_datetime(modified),
            issued_at=_as_datetime(issued),
        )


def _as_datetime(value: Node | None) -> datetime | None:
    from catalog.importer import _parse_time

    return _parse_time(str(value)) if isinstance(value, Literal) else None
