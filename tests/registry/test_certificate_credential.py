"""How a certificate's credential names its issuer: VC 2.0 issuer objects, and credentials that name only a DID."""

from __future__ import annotations

from typing import Any

import pytest

from registry.certificate_credential import issued_event, issuer_id, issuer_names, issuer_object
from registry.config import IssuerName

DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def credential(issuer: object) -> dict[str, Any]:
    """The parts of a certificate credential that its log event is rebuilt from."""
    return {
        "id": "urn:pdr:certificate:20261244010000001",
        "issuer": issuer,
        "validFrom": "2026-12-08T02:00:00Z",
        "credentialSubject": {
            "uscc": "91440101MA5CXXXX0A",
            "registeredData": {"id": "urn:pdr:resource:01J", "subjectType": "resource"},
        },
    }


def test_the_issuer_object_has_the_did_and_both_names() -> None:
    issuer = issuer_object(DID, IssuerName(zh="广州数据登记中心", en="Guangzhou Data Registration Centre"))
    # VC 2.0: an object whose id is a URL; its name a list of language value objects (@value and @language only).
    assert issuer == {
        "id": DID,
        "name": [
            {"@value": "广州数据登记中心", "@language": "zh-CN"},
            {"@value": "Guangzhou Data Registration Centre", "@language": "en"},
        ],
    }
    assert issuer_id(credential(issuer)) == DID
    assert issuer_names(credential(issuer)) == ("广州数据登记中心", "Guangzhou Data Registration Centre")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, (None, None)),
        ("登记中心", ("登记中心", None)),
        ({"@value": "Registry", "@language": "en-GB"}, (None, "Registry")),
        (
            [{"@value": "Registry", "@language": "EN"}, {"@value": "登记中心", "@language": "zh-Hans-CN"}],
            ("登记中心", "Registry"),
        ),
        ([{"@value": 3, "@language": "zh"}, {"@language": "en"}], (None, None)),
    ],
)
def test_names_are_read_by_language(name: object, expected: tuple[str | None, str | None]) -> None:
    issuer: dict[str, Any] = {"id": DID} if name is None else {"id": DID, "name": name}
    assert issuer_names(credential(issuer)) == expected


def test_a_credential_naming_only_a_did_keeps_its_log_event() -> None:
    # Credentials issued before issuers were named carry the DID as a string; their leaves must rebuild unchanged.
    legacy, named = credential(DID), credential(issuer_object(DID, IssuerName(zh="中心", en="Centre")))
    assert issuer_id(legacy) == DID
    assert issuer_names(legacy) == (None, None)
    assert issued_event(legacy).body["issuer"] == issued_event(named).body["issuer"] == DID


@pytest.mark.parametrize("issuer", [None, 7, "", {"name": "登记中心"}, {"id": ""}])
def test_an_issuer_without_an_id_is_refused(issuer: object) -> None:
    with pytest.raises(ValueError, match="issuer"):
        issuer_id(credential(issuer))
