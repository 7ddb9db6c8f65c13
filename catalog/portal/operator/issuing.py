"""Certificates from the operator's side: the request an issue form makes, the preview of what it would certify, and
a certificate as the console shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from auth.caller import Caller
from registry import certificates
from registry.certificate_credential import RIGHTS, holder_and_subject
from registry.config import RegistrySettings
from registry.models import Certificate
from registry.schemas import CertificateRequest

CERTIFICATES_PER_PAGE = 25
# The rights a resource's certificate usually grants, ticked when the form first shows.
DEFAULT_RIGHTS = ("holding", "processing_use")


@dataclass(frozen=True)
class IssueForm:
    """What the operator typed into the issue form, kept to show it again."""

    rights: tuple[str, ...] = DEFAULT_RIGHTS
    scope: str = ""
    ends_on: str = ""

    def request(self, registration_id: str) -> CertificateRequest:
        """The API's request for these values; pydantic's ValidationError names a bad field."""
        return CertificateRequest.model_validate(
            {
                "registration_id": registration_id,
                "rights": list(self.rights),
                "scope": self.scope.strip(),
                "authorisation_ends_on": self.ends_on.strip() or None,
            }
        )


def all_rights() -> list[str]:
    """Every right a certificate can grant, in canonical order."""
    return list(RIGHTS)


def preview(
    session: Session, caller: Caller, settings: RegistrySettings, registration_id: str, form: IssueForm
) -> certificates.Preview:
    """What issuing the form's certificate now would certify, refused as issuing would refuse it."""
    return certificates.preview(session, caller, settings, form.request(registration_id))


@dataclass(frozen=True)
class CertificateView:
    """A certificate with its status now and the holder and data its credential names."""

    certificate: Certificate
    status: str
    holder: dict[str, Any]
    data: dict[str, Any]


def certificate_view(session: Session, number: str) -> CertificateView:
    """One certificate by its number, or 404."""
    certificate = certificates.get_certificate(session, number)
    holder, data = holder_and_subject(certificate)
    return CertificateView(certificate, certificates.current_status(session, certificate), holder, data)
