"""What a certificate's credential says: its vocabulary, its JSON-LD context, its times, and its log event.

Everything here is derived from the credential alone, without the registry's database: the service that issues
certificates, the audit that checks them and the offline verifier all read a credential the same way. In
particular :func:`issued_event` rebuilds the ``certificate.issued`` log event from the credential, so changing
one byte of the credential breaks its inclusion proof.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from registry import log, status_list
from registry.codes import parse_certificate_number
from registry.config import IssuerName
from registry.enums import SubjectType
from registry.models import Certificate

ISSUED = "certificate.issued"
REVOKED = "certificate.revoked"
CERTIFICATE_TYPE = "DataPropertyRightCertificate"
HOLDER_TYPE = "DataPropertyRightHolder"
ID_PREFIX = "urn:pdr:certificate:"
VALID = "valid"
REVOKED_STATUS = "revoked"
EXPIRED = "expired"

# The "three rights" of the Data Twenty Articles (数据二十条), in their canonical order.
RIGHTS: dict[str, tuple[str, str]] = {
    "holding": ("数据资源持有权", "Data resource holding right"),
    "processing_use": ("数据加工使用权", "Data processing and use right"),
    "product_operating": ("数据产品经营权", "Data product operating right"),
}
# The languages of the issuer's name in a credential: Chinese as used in mainland China, and English.
ISSUER_NAME_LANGUAGES = ("zh-CN", "en")
SUBJECT_TYPES = {SubjectType.resource: "DataResource", SubjectType.product: "DataProduct"}


def context_url(base_url: str) -> str:
    """The URL of pdr's JSON-LD context for certificates."""
    return f"{base_url.rstrip('/')}/contexts/pdr/v1"


def context_document(base_url: str) -> dict[str, Any]:
    """pdr's JSON-LD context: the terms a certificate uses beyond the VC 2.0 context."""
    vocab = context_url(base_url) + "#"
    terms = [
        CERTIFICATE_TYPE,
        HOLDER_TYPE,
        "DataResource",
        "DataProduct",
        "uscc",
        "entityKind",
        "registeredData",
        "subjectType",
        "code",
        "registrationCode",
        "revision",
        "rights",
        "scope",
    ]
    context: dict[str, Any] = {"@version": 1.1, "@protected": True, "pdr": vocab}
    context.update({term: f"pdr:{term}" for term in terms})
    context["registeredData"] = {"@id": "pdr:registeredData", "@type": "@id"}
    context["rights"] = {"@id": "pdr:rights", "@container": "@set"}
    return {"@context": context}


def certificate_id(number: str) -> str:
    """The credential id of a certificate number."""
    return ID_PREFIX + number


def number_of(credential: dict[str, Any]) -> str:
    """The certificate number in a credential's id; ValueError when it carries none."""
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id.startswith(ID_PREFIX):
        raise ValueError("the credential's id is not a pdr certificate id")
    number = credential_id[len(ID_PREFIX) :]
    parse_certificate_number(number)
    return number


def rfc3339(moment: datetime) -> str:
    """A UTC time as RFC 3339 / XSD dateTime with a Z, to the second."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def parse_rfc3339(value: object) -> datetime:
    """A timezone-aware time from RFC 3339 text; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("not a date-time string")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("date-time without a time zone")
    return moment


def issuer_object(did: str, name: IssuerName) -> dict[str, Any]:
    """A credential's issuer: its DID, and its name in Chinese and English as VC 2.0 language value objects."""
    return {
        "id": did,
        "name": [
            {"@value": name.zh, "@language": ISSUER_NAME_LANGUAGES[0]},
            {"@value": name.en, "@language": ISSUER_NAME_LANGUAGES[1]},
        ],
    }


def issuer_id(credential: dict[str, Any]) -> str:
    """The issuer's DID, whether the credential names its issuer by a URL or by an object; ValueError otherwise."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise ValueError("the credential's issuer is neither a URL nor an object with an id")
    return issuer


def _language_values(name: object) -> list[tuple[str, str]]:
    """(language, text) of a VC 2.0 name: a string, a language value object, or a list of either."""
    values = []
    for value in name if isinstance(name, list) else [name]:
        if isinstance(value, str):
            values.append(("", value))
        elif isinstance(value, dict) and isinstance(value.get("@value"), str):
            language = value.get("@language")
            values.append((language.lower() if isinstance(language, str) else "", value["@value"]))
    return values


def issuer_names(credential: dict[str, Any]) -> tuple[str | None, str | None]:
    """The issuer's Chinese and English names as the credential records them; None where it records none."""
    issuer = credential.get("issuer")
    values = _language_values(issuer.get("name") if isinstance(issuer, dict) else None)
    chinese = next((text for language, text in values if language.split("-")[0] == "zh"), None)
    english = next((text for language, text in values if language.split("-")[0] == "en"), None)
    # A name without a language is taken for the Chinese one, the registry's own language.
    untagged = next((text for language, text in values if not language), None)
    return chinese or untagged, english


def issued_event(credential: dict[str, Any]) -> log.Event:
    """The ``certificate.issued`` event of a signed credential, rebuilt from the credential alone."""
    number = number_of(credential)
    subject = credential["credentialSubject"]
    data = subject["registeredData"]
    subject_type = str(data["subjectType"])
    data_id = str(data["id"])
    prefix = f"urn:pdr:{subject_type}:"
    if not data_id.startswith(prefix):
        raise ValueError("registeredData.id does not match its subjectType")
    body = {
        "number": number,
        "subject_type": subject_type,
        "subject_id": data_id[len(prefix) :],
        "holder_uscc": str(subject["uscc"]),
        "issuer": issuer_id(credential),
        "credential_sha256": status_list.sha256_jcs(credential),
    }
    return log.Event(kind=ISSUED, subject=f"certificate:{number}", body=body, at=parse_rfc3339(credential["validFrom"]))


def describe_rights(rights: list[str]) -> list[tuple[str, str, str]]:
    """(code, Chinese label, English label) for each right, in canonical order."""
    return [(right, *RIGHTS.get(right, (right, right))) for right in rights]


def holder_and_subject(certificate: Certificate) -> tuple[dict[str, Any], dict[str, Any]]:
    """The holder and the registered data as the credential names them."""
    subject = certificate.credential.get("credentialSubject", {})
    return subject, subject.get("registeredData", {})


def status_of(certificate: Certificate, now: datetime) -> str:
    """valid, revoked or expired, at a moment."""
    if certificate.status == REVOKED_STATUS:
        return REVOKED_STATUS
    return EXPIRED if now > certificate.valid_until else VALID
