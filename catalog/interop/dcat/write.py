"""DCAT-AP 3 descriptions of the public catalog and its datasets, as rdflib graphs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD
from sqlalchemy import text
from sqlmodel import Session, col, select

from catalog.config import CatalogSettings
from catalog.datasets.access import is_public
from catalog.datasets.models import Dataset
from catalog.datasets.schemas import DatasetPublic, DistributionPublic, VersionFile
from catalog.datasets.views import present
from catalog.dataspace.rdf import add_offers
from catalog.dataspace.service import offers_of
from catalog.interop.dcat.vocabulary import (
    ACCESS_RIGHTS,
    ADMS,
    DCAT_VERSION,
    EU_FILE_TYPE,
    FREQUENCIES,
    HYDRA,
    IANA,
    JSONLD_CONTEXT,
    LICENCES,
    MEDIA_TYPES,
    SPDX,
)
from registry.enums import THEME_LABELS_ZH, Theme
from storage.exceptions import FieldProblem, InvalidInput, NotFound
from storage.inputs import escaped_url, url_problem


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
        """Describe one dataset with its distributions: its links, and the files of its published versions."""
        node = self.iri(f"/dcat/datasets/{d.id}")
        self._metadata(node, d)
        self._coverage(node, d)
        licence = self._licence(d.licence)
        for distribution in d.distributions:
            self._link(node, distribution, licence)
        for version in d.versions or []:
            if version.state == "published":
                for file in version.files:
                    self._file(node, d.id, file, licence)
        return node

    def _metadata(self, node: URIRef, d: DatasetPublic) -> None:
        g = self.graph
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
            g.add((node, DCAT.theme, self._theme(theme)))
        g.add((node, DCTERMS.publisher, self._agent(d.publisher.id, d.publisher.name, d.publisher.name_en)))
        g.add((node, DCTERMS.accessRights, ACCESS_RIGHTS[d.access]))
        if d.update_frequency in FREQUENCIES:
            g.add((node, DCTERMS.accrualPeriodicity, FREQUENCIES[d.update_frequency]))
        if d.issued_at:
            g.add((node, DCTERMS.issued, _datetime(d.issued_at)))
        g.add((node, DCTERMS.modified, _datetime(d.modified_at)))
        g.add((node, DCAT_VERSION, Literal(str(d.version))))
        landing_page = _iri(d.landing_page) if d.landing_page else None
        if landing_page is not None:
            g.add((node, DCAT.landingPage, landing_page))
        if d.registry is not None:
            identifier = BNode()
            g.add((node, ADMS.identifier, identifier))
            g.add((identifier, RDF.type, ADMS.Identifier))
            g.add((identifier, SKOS.notation, Literal(d.registry.resource_code)))

    def _theme(self, theme: str) -> URIRef:
        g = self.graph
        concept = self.iri(f"/dcat/themes/{theme}")
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.prefLabel, Literal(THEME_LABELS_ZH[Theme(theme)], lang="zh")))
        g.add((concept, SKOS.notation, Literal(theme)))
        g.add((concept, SKOS.inScheme, self.iri("/dcat/themes")))
        self._theme_scheme()
        return concept

    def _coverage(self, node: URIRef, d: DatasetPublic) -> None:
        g = self.graph
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

    def _link(self, node: URIRef, distribution: DistributionPublic, licence: URIRef | None) -> None:
        g = self.graph
        url = _iri(distribution.url)
        if url is None:  # DCAT-AP requires an access URL: without a usable one the link is left out
            return
        dist = self.iri(f"/dcat/distributions/{distribution.id}")
        g.add((node, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(distribution.name, lang="zh")))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCAT.downloadURL, url))
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

    def _file(self, node: URIRef, dataset_id: str, file: VersionFile, licence: URIRef | None) -> None:
        g = self.graph
        dist = self.iri(f"/dcat/files/{file.id}")
        content = self.iri(f"/api/v1/datasets/{dataset_id}/files/{file.id}/content")
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

    def _licence(self, licence: str | None) -> URIRef | None:
        if not licence:
            return None
        if url_problem(licence) is None:
            iri = URIRef(licence)
        elif licence.lower() in LICENCES:
            iri = URIRef(LICENCES[licence.lower()])
        else:
            iri = self.iri(f"/dcat/licences/{re.sub(r'[^A-Za-z0-9._-]', '-', licence)}")
        self.graph.add((iri, RDF.type, DCTERMS.LicenseDocument))
        return iri


def _iri(url: str) -> URIRef | None:
    """A stored URL as an IRI that Turtle can write: one stored before URLs were checked (holding a quote, a space,
    a control character) goes out percent-encoded, or not at all when even that is no http(s) URL."""
    escaped = escaped_url(url)
    return URIRef(escaped) if url_problem(escaped) is None else None


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
    _offers(session, builder, [d.id for d in datasets])
    return builder.graph


def dataset_graph(session: Session, base_url: str, settings: CatalogSettings, dataset_id: str) -> Graph:
    """The DCAT-AP description of one public dataset."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or not is_public(session, dataset):
        raise NotFound("no such dataset")
    builder = _Builder(base_url, settings)
    builder.dataset(present(session, [dataset], detail=True)[0])
    _offers(session, builder, [dataset.id])
    return builder.graph


def _offers(session: Session, builder: _Builder, dataset_ids: list[str]) -> None:
    """Each dataset's offers as odrl:hasPolicy (conditional datasets carry them)."""
    nodes = {dataset_id: builder.iri(f"/dcat/datasets/{dataset_id}") for dataset_id in dataset_ids}
    add_offers(builder.graph, nodes, offers_of(session, dataset_ids))
