"""Offline verification of a certificate, agreement or participant credential bundle against a trust file, as
`pdr verify` and `/verify` run it.

The trust file is what ``GET /.well-known/pdr-trust.json`` serves: the log's origin and verifier key, the
issuer DIDs and the status list URL. With it alone (no network) a bundle is checked for:

1. the credential's eddsa-jcs-2022 proof, by one of the trusted issuer keys;
2. the checkpoint's signature by the log key, for the trusted origin;
3. the inclusion of the ``certificate.issued`` (``agreement.signed``, ``participant.issued``) leaf, rebuilt from the
   credential, under that checkpoint;
4. the validity period at the time asked about;
5. revocation, from the signed status list the credential names: fetched over HTTP(S) by default, or read from a
   file. It fails closed: a list that cannot be fetched fails the check; only ``--offline`` leaves it unchecked,
   and says so with an exit code of its own.

Each check is reported; one that depends on a failed one is reported as skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from registry import log, status_list
from registry.agreement_credential import AGREEMENT_TYPE, agreement_id_of, signed_event
from registry.certificate_credential import (
    CERTIFICATE_TYPE,
    REVOKED_STATUS,
    issued_event,
    issuer_id,
    issuer_names,
    number_of,
    parse_rfc3339,
    rfc3339,
)
from registry.credentials import public_key_from_did_key, verify_credential
from registry.keys import ISSUER, LOG, KeysMissing, active_key, log_vkey, published_keys
from registry.merkle import leaf_hash, verify_inclusion
from registry.note import Checkpoint, NoteError, parse_and_verify_checkpoint
from registry.participant_credential import PARTICIPANT_TYPE, participant_id_of
from registry.participant_credential import issued_event as participant_issued_event
from registry.tlog_proof import TlogProof, TlogProofError, parse_tlog_proof

# A status list of the largest size we publish is about 2 MiB of bits; its JSON is far smaller compressed.
MAX_STATUS_LIST_BYTES = 8 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 10.0

StatusListFetcher = Callable[[str], dict[str, Any]]

# The credential types the registry's issuer signs: what each is called, its log event rebuilt from the credential
# alone, and its identifier.
CERTIFICATE = "certificate"
KINDS: dict[str, tuple[str, Callable[[dict[str, Any]], log.Event], Callable[[dict[str, Any]], str]]] = {
    CERTIFICATE_TYPE: (CERTIFICATE, issued_event, number_of),
    AGREEMENT_TYPE: ("agreement", signed_event, agreement_id_of),
    PARTICIPANT_TYPE: ("participant credential", participant_issued_event, participant_id_of),
}
# What a registry's bundle may report of a credential that no longer holds.
ENDED_STATUSES = frozenset({REVOKED_STATUS, "terminated", "retired"})

# `pdr verify`'s exit codes, as its help and the README list them.
EXIT_VERIFIED = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_REVOCATION_NOT_CHECKED = 3
EXIT_STATUS_LIST_UNAVAILABLE = 4


class TrustSettings(Protocol):
    """What the trust document needs from the service's settings."""

    @property
    def base_url(self) -> str:
        """The public URL of the service."""
        ...

    @property
    def log_origin(self) -> str:
        """The transparency log's origin."""
        ...


class VerificationFailed(Exception):
    """One check failed; the message says why."""


class StatusListUnavailable(VerificationFailed):
    """The status list could not be had, so revocation is unknown: the check fails closed."""


class NotChecked(Exception):
    """A check was deliberately not run; the message says so."""


class BadInput(ValueError):
    """A bundle, trust or status list file cannot be read as such."""


@dataclass(frozen=True)
class Trust:
    """What a verifier trusts: the log's origin and key, the issuer DIDs, the status list URL."""

    log_origin: str
    log_vkey: str
    issuer_dids: tuple[str, ...]
    status_list_url: str | None = None

    @classmethod
    def from_document(cls, document: object) -> Trust:
        """Read a trust document (pdr-trust.json); BadInput when it lacks what verification needs."""
        if not isinstance(document, dict):
            raise BadInput("the trust file is not a JSON object")
        origin, vkey, issuer = document.get("log_origin"), document.get("log_vkey"), document.get("issuer_did")
        extra = document.get("issuer_dids", [])
        if not isinstance(origin, str) or not isinstance(vkey, str) or not origin or not vkey:
            raise BadInput("the trust file needs log_origin and log_vkey")
        if not isinstance(extra, list) or not all(isinstance(d, str) for d in extra):
            raise BadInput("issuer_dids in the trust file must be a list of DIDs")
        dids = tuple(dict.fromkeys([*([issuer] if isinstance(issuer, str) and issuer else []), *extra]))
        if not dids:
            raise BadInput("the trust file names no issuer_did")
        url = document.get("status_list_url")
        return cls(origin, vkey, dids, url if isinstance(url, str) and url else None)


@dataclass(frozen=True)
class Check:
    """The outcome of one check: passed (True), failed (False) or not run (None)."""

    name: str
    ok: bool | None
    detail: str
    # A failure because something could not be reached, rather than because something is wrong.
    unavailable: bool = False


@dataclass
class Report:
    """Every check run on a bundle, in order."""

    number: str | None = None
    checks: list[Check] = field(default_factory=list)
    kind: str = CERTIFICATE
    checkpoint_size: int | None = None

    @property
    def ok(self) -> bool:
        """Whether no check failed."""
        return all(check.ok is not False for check in self.checks)

    @property
    def exit_code(self) -> int:
        """`pdr verify`'s exit code: a failed check first, then an unreachable status list, then an unrun check."""
        failures = [check for check in self.checks if check.ok is False]
        if any(not check.unavailable for check in failures):
            return EXIT_FAILED
        if failures:
            return EXIT_STATUS_LIST_UNAVAILABLE
        if any(check.ok is None for check in self.checks):
            return EXIT_REVOCATION_NOT_CHECKED
        return EXIT_VERIFIED

    def passed(self, name: str) -> bool:
        """Whether the named check ran and passed."""
        return any(check.name == name and check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "number": self.number,
            "ok": self.ok,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


# ---------------------------------------------------------------- the trust document


def trust_document(session: Session, settings: TrustSettings) -> dict[str, Any]:
    """What an offline verifier needs, as served at /.well-known/pdr-trust.json."""
    log_key = active_key(session, LOG)
    issuer_key = active_key(session, ISSUER)
    if log_key is None:
        raise KeysMissing(LOG)
    if issuer_key is None:
        raise KeysMissing(ISSUER)
    latest = status_list.latest_version(session)
    return {
        "log_origin": settings.log_origin,
        "log_vkey": log_vkey(log_key),
        "issuer_did": issuer_key.name,
        # Every issuer key ever published: certificates signed before a rotation keep verifying.
        "issuer_dids": [key.name for key in published_keys(session, ISSUER)],
        "status_list_url": str(latest.credential["id"]) if latest else status_list.list_url(settings.base_url),
    }


# ---------------------------------------------------------------- checks


def _trusted_resolver(trust: Trust, expected_issuer: str) -> Callable[[str], Ed25519PublicKey]:
    def resolve(method: str) -> Ed25519PublicKey:
        did = method.partition("#")[0]
        if did != expected_issuer or did not in trust.issuer_dids:
            raise VerificationFailed(f"{method} is not a trusted issuer key")
        return public_key_from_did_key(method)

    return resolve


def _credential_type(credential: dict[str, Any]) -> str:
    """The one credential type of the registry's the credential has; VerificationFailed otherwise."""
    types = credential.get("type")
    found = [t for t in KINDS if t in types] if isinstance(types, list) and "VerifiableCredential" in types else []
    if len(found) != 1:
        raise VerificationFailed(f"the credential is not a {' or '.join(KINDS)}")
    return found[0]


def _check_credential(credential: dict[str, Any], trust: Trust) -> str:
    _credential_type(credential)
    try:
        issuer = issuer_id(credential)
    except ValueError as exc:
        raise VerificationFailed(str(exc)) from None
    if issuer not in trust.issuer_dids:
        raise VerificationFailed(f"the issuer {issuer!r} is not among the trusted issuer DIDs")
    if not verify_credential(credential, _trusted_resolver(trust, issuer)):
        raise VerificationFailed("the eddsa-jcs-2022 proof does not verify with the issuer's key")
    named = " / ".join(name for name in issuer_names(credential) if name)
    return f"eddsa-jcs-2022 proof by {named} ({issuer})" if named else f"eddsa-jcs-2022 proof by {issuer}"


def _check_checkpoint(text: str, trust: Trust) -> tuple[TlogProof, Checkpoint]:
    try:
        proof = parse_tlog_proof(text)
        checkpoint = parse_and_verify_checkpoint(proof.checkpoint, trust.log_vkey, trust.log_origin)
    except (TlogProofError, NoteError) as exc:
        raise VerificationFailed(str(exc)) from None
    return proof, checkpoint


def _check_inclusion(credential: dict[str, Any], proof: TlogProof, checkpoint: Checkpoint, claimed: object) -> str:
    if claimed is not None and claimed != proof.index:
        raise VerificationFailed(f"the bundle's log_index {claimed} is not the proof's index {proof.index}")
    logged = KINDS[_credential_type(credential)][1]
    try:
        event = logged(credential)
        leaf = log.envelope_bytes(event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise VerificationFailed(f"the credential's log entry cannot be rebuilt from it ({exc})") from None
    if not verify_inclusion(leaf_hash(leaf), proof.index, checkpoint.size, proof.proof_hashes, checkpoint.root_hash):
        raise VerificationFailed(
            f"the {event.kind} entry for this credential is not at index {proof.index} "
            f"of the tree of size {checkpoint.size}"
        )
    return f"{event.kind} at index {proof.index} of {checkpoint.size}"


def _check_validity(credential: dict[str, Any], at: datetime) -> str:
    try:
        valid_from = parse_rfc3339(credential.get("validFrom"))
        valid_until = parse_rfc3339(credential.get("validUntil"))
    except ValueError:
        raise VerificationFailed("validFrom or validUntil is not a date-time") from None
    if at < valid_from:
        raise VerificationFailed(f"not valid before {rfc3339(valid_from)}")
    if at > valid_until:
        raise VerificationFailed(f"expired on {rfc3339(valid_until)}")
    return f"valid from {rfc3339(valid_from)} until {rfc3339(valid_until)}"


def _status_entry(credential: dict[str, Any]) -> tuple[str, int]:
    entries = credential.get("credentialStatus")
    candidates = entries if isinstance(entries, list) else [entries]
    for entry in candidates:
        if (
            isinstance(entry, dict)
            and entry.get("type") == "BitstringStatusListEntry"
            and entry.get("statusPurpose") == status_list.STATUS_PURPOSE
        ):
            index, url = entry.get("statusListIndex"), entry.get("statusListCredential")
            if not isinstance(index, str) or not index.isascii() or not index.isdigit() or not isinstance(url, str):
                raise VerificationFailed("the credential's status entry is malformed")
            return url, int(index)
    raise VerificationFailed("the credential has no revocation status entry")


def _trusted_status_entry(credential: dict[str, Any], trust: Trust) -> tuple[str, int]:
    url, index = _status_entry(credential)
    if trust.status_list_url is not None and url != trust.status_list_url:
        raise VerificationFailed(f"the status list {url} is not the trusted {trust.status_list_url}")
    return url, index


def _check_revocation(credential: dict[str, Any], trust: Trust, status: dict[str, Any], at: datetime) -> str:
    url, index = _trusted_status_entry(credential, trust)
    if status.get("id") != url:
        raise VerificationFailed(f"the status list given is {status.get('id')!r}, not {url}")
    types = status.get("type")
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
        raise VerificationFailed("the status list is not a BitstringStatusListCredential")
    issuer = status.get("issuer")
    if not isinstance(issuer, str) or issuer not in trust.issuer_dids:
        raise VerificationFailed("the status list is not issued by a trusted issuer")
    if not verify_credential(status, _trusted_resolver(trust, issuer)):
        raise VerificationFailed("the status list's proof does not verify")
    until = status.get("validUntil")
    try:
        expired = until is not None and parse_rfc3339(until) < at
    except ValueError:
        raise VerificationFailed("the status list's validUntil is not a date-time") from None
    if expired:
        raise VerificationFailed("the status list has expired")
    subject = status.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != status_list.STATUS_PURPOSE:
        raise VerificationFailed("the status list is not for revocation")
    try:
        revoked = status_list.bit_at(status_list.decode_bits(subject.get("encodedList", "")), index)
    except status_list.StatusListError as exc:
        raise VerificationFailed(str(exc)) from None
    if revoked:
        raise VerificationFailed(f"revoked (bit {index} of the status list issued {status.get('validFrom')})")
    return f"not revoked (bit {index} of the status list issued {status.get('validFrom')})"


def _download(url: str, unknown: str) -> bytes:
    """The body of a 200 answer, read no further than the largest list; StatusListUnavailable otherwise."""
    # Imported here: the service verifies bundles it was handed without fetching, and httpx brings its command line.
    import httpx

    body = bytearray()
    try:
        with (
            httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise StatusListUnavailable(
                    f"fetching the status list from {url} gave HTTP {response.status_code}, {unknown}"
                )
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_STATUS_LIST_BYTES:
                    raise StatusListUnavailable(f"the status list from {url} is too large, {unknown}")
    except httpx.HTTPError as exc:
        raise StatusListUnavailable(
            f"cannot fetch the status list from {url} ({type(exc).__name__}), {unknown}"
        ) from None
    return bytes(body)


def fetch_status_list(url: str) -> dict[str, Any]:
    """Fetch a status list credential over HTTP(S); StatusListUnavailable when it cannot be had."""
    if not url.startswith(("https://", "http://")):
        raise VerificationFailed(f"will not fetch a status list from {url!r}")
    unknown = "so whether the credential is revoked is unknown"
    content = _download(url, unknown)
    try:
        document = json.loads(content)
    except ValueError:
        raise StatusListUnavailable(f"the status list from {url} is not JSON, {unknown}") from None
    if not isinstance(document, dict):
        raise StatusListUnavailable(f"the status list from {url} is not a JSON object, {unknown}")
    return document


def _run(report: Report, name: str, check: Callable[[], str]) -> bool:
    """Run one check into the report; whether it passed."""
    try:
        report.checks.append(Check(name, True, check()))
    except StatusListUnavailable as exc:
        report.checks.append(Check(name, False, str(exc), unavailable=True))
        return False
    except VerificationFailed as exc:
        report.checks.append(Check(name, False, str(exc)))
        return False
    except NotChecked as exc:
        report.checks.append(Check(name, None, str(exc)))
        return False
    return True


def _check_log(report: Report, bundle: dict[str, Any], credential: dict[str, Any], trust: Trust) -> None:
    """The checkpoint's signature, then the leaf's inclusion under it (skipped when the checkpoint fails)."""
    parsed: list[tuple[TlogProof, Checkpoint]] = []

    def checkpoint() -> str:
        text = bundle.get("tlog_proof")
        if not isinstance(text, str):
            raise VerificationFailed("the bundle has no tlog_proof text")
        parsed.append(_check_checkpoint(text, trust))
        size = parsed[0][1].size
        report.checkpoint_size = size
        return f"signed by {trust.log_origin} at tree size {size}"

    if _run(report, "checkpoint", checkpoint):
        proof, signed = parsed[0]
        _run(report, "log inclusion", lambda: _check_inclusion(credential, proof, signed, bundle.get("log_index")))
    else:
        report.checks.append(Check("log inclusion", None, "not checked: an earlier check failed"))


def _check_status(
    bundle: dict[str, Any],
    credential: dict[str, Any],
    trust: Trust,
    status_list_credential: dict[str, Any] | None,
    fetch: StatusListFetcher | None,
    at: datetime,
) -> str:
    if bundle.get("status") in ENDED_STATUSES:
        # An unsigned claim, but a registry saying "revoked" can only make us refuse, never accept.
        kind = KINDS[_credential_type(credential)][0]
        raise VerificationFailed(f"the registry reports the {kind} {bundle['status']}")
    url, _ = _trusted_status_entry(credential, trust)
    status = status_list_credential
    if status is None and fetch is not None:
        status = fetch(url)
    if status is None:
        raise NotChecked(f"NOT checked: the status list {url} was not fetched (--offline)")
    return _check_revocation(credential, trust, status, at)


def verify_bundle(
    bundle: object,
    trust: Trust,
    *,
    at: datetime,
    status_list_credential: dict[str, Any] | None = None,
    fetch: StatusListFetcher | None = None,
) -> Report:
    """Run every check on a bundle at a moment; fetch is called only when no status list is given and allowed."""
    report = Report()
    if not isinstance(bundle, dict) or not isinstance(bundle.get("credential"), dict):
        report.checks.append(Check("bundle", False, "the bundle has no credential object"))
        return report
    credential: dict[str, Any] = bundle["credential"]
    try:
        report.kind, _, identify = KINDS[_credential_type(credential)]
        report.number = identify(credential)
    except (VerificationFailed, ValueError):
        report.number = None
    _run(report, "credential proof", lambda: _check_credential(credential, trust))
    _check_log(report, bundle, credential, trust)
    _run(report, "validity", lambda: _check_validity(credential, at))
    _run(report, "revocation", lambda: _check_status(bundle, credential, trust, status_list_credential, fetch, at))
    return report


def parse_at(text: str | None, now: datetime) -> datetime:
    """The moment to judge validity at: an RFC 3339 time, or now when none is given."""
    if text is None:
        return now
    try:
        return parse_rfc3339(text)
    except ValueError:
        raise BadInput(f"--at must be an RFC 3339 time with a zone, e.g. 2026-11-23T08:00:00Z, not {text!r}") from None
