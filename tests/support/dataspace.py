"""The data space tests' helpers: offers in pdr's profile, and the Dataspace Protocol's JSON schemas as validators."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from jsonschema import Draft201909Validator
from referencing import Registry, Resource

from tests.support.data import bearer

STANDARD = Path(__file__).resolve().parents[1] / "standards" / "dataspace-protocol-2025-1"


def offer_body(**changes: Any) -> dict[str, Any]:
    """An offer for industry use: a purpose and scenario, a year's period, Guangzhou, 100 downloads, a fee."""
    body: dict[str, Any] = {
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["充电桩选址", "交通规划"]},
                    {"leftOperand": "scenario", "operator": "eq", "rightOperand": "新能源汽车充电设施规划"},
                    {"leftOperand": "useCategory", "operator": "eq", "rightOperand": "industry"},
                    {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": "2026-12-01"},
                    {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-12-31"},
                    {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P1Y"},
                    {"leftOperand": "spatial", "operator": "isPartOf", "rightOperand": "440100"},
                    {"leftOperand": "count", "operator": "lteq", "rightOperand": 100},
                    {"leftOperand": "modelContract", "operator": "eq", "rightOperand": "data_provision"},
                ],
            }
        ],
        "prohibition": [{"action": "distribute"}, {"action": "grantUse"}],
        "obligation": [
            {
                "action": "delete",
                "constraint": [{"leftOperand": "delayPeriod", "operator": "lteq", "rightOperand": "P30D"}],
            },
            {
                "action": "compensate",
                "constraint": [{"leftOperand": "payAmount", "operator": "eq", "rightOperand": "500"}],
            },
        ],
    }
    body.update(changes)
    return body


def welfare_offer_body() -> dict[str, Any]:
    """A free offer for public welfare use under the model contract of entrusted processing."""
    return {
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {"leftOperand": "useCategory", "operator": "eq", "rightOperand": "public_welfare"},
                    {"leftOperand": "modelContract", "operator": "eq", "rightOperand": "entrusted_processing"},
                ],
            }
        ],
        "obligation": [{"action": "delete"}],
    }


def prospect(**changes: Any) -> dict[str, Any]:
    """A prospective request the industry offer allows."""
    body: dict[str, Any] = {
        "purpose": "充电桩选址",
        "scenario": "新能源汽车充电设施规划",
        "use_category": "industry",
        "requested_from": "2027-01-01",
        "requested_until": "2027-06-30",
        "region": "440106",
        "downloads": 50,
    }
    body.update(changes)
    return body


# Three transfer schemas of 2025-1 refer to "...transfer-schema.json#definitions/AbstractTransferCodeMessage", a
# fragment without the slash a JSON pointer starts with, which a conforming resolver refuses; the files are kept as
# published and the pointer is read as the one meant.
_BROKEN_POINTER = ".json#definitions/"
_MEANT_POINTER = ".json#/definitions/"


def _read(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8").replace(_BROKEN_POINTER, _MEANT_POINTER))
    return document


def _load(relative: str) -> dict[str, Any]:
    return _read(STANDARD / relative)


@cache
def _registry() -> Registry:
    """Every schema of the standard's folder, found by its $id."""
    resources = []
    for path in sorted(STANDARD.rglob("*-schema.json")):
        schema = _read(path)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def validator(schema: str) -> Draft201909Validator:
    """A validator for one of the protocol's schemas, e.g. ``catalog/catalog-schema.json``."""
    document = _load(schema)
    Draft201909Validator.check_schema(document)
    return Draft201909Validator(document, registry=_registry())


def assert_valid(schema: str, message: object) -> None:
    """Fail with every schema error of a message, each with its path."""
    errors = sorted(validator(schema).iter_errors(message), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def assert_valid_offer(offer: object) -> None:
    """Fail unless an offer is a dataset's Offer of the protocol's contract schema.

    The schema's root (a Policy) cannot be used: its oneOf holds every Offer without a target twice (as an Offer and
    as a MessageOffer), so no such Offer passes it; a Dataset's hasPolicy refers to the Offer definition itself.
    """
    schema = {"$ref": "https://w3id.org/dspace/2025/1/negotiation/contract-schema.json#/definitions/Offer"}
    errors = list(Draft201909Validator(schema, registry=_registry()).iter_errors(offer))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def example(relative: str) -> dict[str, Any]:
    """One of the specification's example messages."""
    return _load(relative)


def bounded_welfare_offer_body() -> dict[str, Any]:
    """The free public-welfare offer with a period of six months, so that it can be agreed as it stands."""
    body = welfare_offer_body()
    body["permission"][0]["constraint"].append(
        {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P6M"}
    )
    return body


def finalized_negotiation(
    client: TestClient, dataset_id: str, terms: dict[str, Any], *, provider_token: str, consumer_token: str
) -> dict[str, Any]:
    """The provider offers a dataset on `terms`, the consumer requests the offer as it stands, and each party takes
    its steps (agree, verify, finalize) by hand; returns the FINALIZED negotiation."""
    offered = client.post(f"/api/v1/datasets/{dataset_id}/offers", json=terms, headers=bearer(provider_token))
    assert offered.status_code == 201, offered.text
    started = client.post(
        "/api/v1/negotiations", json={"offer_id": offered.json()["id"]}, headers=bearer(consumer_token)
    )
    assert started.status_code == 201, started.text
    negotiation_id = started.json()["id"]
    for token, step in ((provider_token, "agree"), (consumer_token, "verify"), (provider_token, "finalize")):
        taken = client.post(f"/api/v1/negotiations/{negotiation_id}/{step}", headers=bearer(token))
        assert taken.status_code == 200, (step, taken.text)
    assert taken.json()["state"] == "FINALIZED"
    return dict(taken.json())
