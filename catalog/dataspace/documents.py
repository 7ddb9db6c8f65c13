"""The Dataspace Protocol 2025-1's JSON-LD documents as pdr writes them: versions, offers, datasets, catalogs and
catalog errors, each valid against the protocol's JSON schema (tests/catalog/dataspace checks every one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.datasets.models import Dataset
from catalog.dataspace.models import DatasetOffer
from catalog.dataspace.profile import PROFILE

DSPACE_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
VERSION = "2025-1"
# The protocol's base under the service's root: what /.well-known/dspace-version names.
PROTOCOL_PATH = "/dsp"
OFFER_PREFIX = "urn:pdr:offer:"
DATASET_PREFIX = "urn:pdr:dataset:"
# Files of a dataset are fetched over HTTPS by the consumer (the protocol's pull transfer).
TRANSFER_FORMAT = "HttpData-PULL"


def version_document() -> dict[str, Any]:
    """The VersionResponse of /.well-known/dspace-version."""
    return {"protocolVersions": [{"version": VERSION, "path": PROTOCOL_PATH, "binding": "HTTPS"}]}


def offer_document(offer: DatasetOffer) -> dict[str, Any]:
    """An offer as an ODRL Offer of pdr's profile (the protocol forbids a target on a dataset's offers)."""
    return {"@id": OFFER_PREFIX + offer.id, "@type": "Offer", "profile": PROFILE, **offer.policy}


def dataset_iri(dataset_id: str) -> str:
    """The @id a dataset has in the protocol's messages."""
    return DATASET_PREFIX + dataset_id


def dataset_id_of(identifier: str) -> str:
    """The row id behind a dataset's @id (its bare id is accepted too)."""
    return identifier.removeprefix(DATASET_PREFIX)


def data_service(base_url: str) -> dict[str, Any]:
    """The protocol endpoint itself, as a DataService."""
    endpoint = base_url + PROTOCOL_PATH
    return {"@id": endpoint, "@type": "DataService", "endpointURL": endpoint}


def _dataset(base_url: str, dataset: Dataset, offers: Sequence[DatasetOffer], service: object) -> dict[str, Any]:
    return {
        "@id": dataset_iri(dataset.id),
        "@type": "Dataset",
        "dct:title": dataset.title,
        "hasPolicy": [offer_document(offer) for offer in offers],
        "distribution": [{"@type": "Distribution", "format": TRANSFER_FORMAT, "accessService": service}],
    }


def dataset_document(base_url: str, dataset: Dataset, offers: Sequence[DatasetOffer]) -> dict[str, Any]:
    """A Dataset answering a dataset request: its offers, and a distribution naming the service in full."""
    body = _dataset(base_url, dataset, offers, data_service(base_url))
    return {"@context": [DSPACE_CONTEXT], **body}


def catalog_document(
    base_url: str, participant: str, datasets: Sequence[tuple[Dataset, Sequence[DatasetOffer]]]
) -> dict[str, Any]:
    """A Catalog answering a catalog request: the service, and each dataset with its offers."""
    service = data_service(base_url)
    document: dict[str, Any] = {
        "@context": [DSPACE_CONTEXT],
        "@id": base_url + PROTOCOL_PATH + "/catalog",
        "@type": "Catalog",
        "participantId": participant,
        "service": [service],
    }
    if datasets:  # the schema wants a dataset list to hold at least one
        document["dataset"] = [_dataset(base_url, d, offers, service["@id"]) for d, offers in datasets]
    return document


def catalog_error(status: int, reasons: Sequence[str]) -> dict[str, Any]:
    """A CatalogError: the HTTP status as its code, and what went wrong."""
    return {"@context": [DSPACE_CONTEXT], "@type": "CatalogError", "code": str(status), "reason": list(reasons)}
