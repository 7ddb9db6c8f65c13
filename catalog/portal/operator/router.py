"""The operator console's routes: the review queue, a registration's review with its steps and objections,
certificates (preview, issue, revoke), entities (verify, suspend), access requests' second and the dashboard.

Each route lets only the registry's staff in (`refused`), calls the same use case as the API and answers a successful
form with a redirect to the page that shows the new state; a refused form is shown again with what was wrong.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query
from fastapi import Request as HttpRequest
from fastapi.responses import Response
from pydantic import ValidationError

from auth.caller import Caller
from auth.dependencies import AnyCaller, Cursor, DbSession
from catalog.exchange import requests
from catalog.exchange.schemas import Decision, Reason
from catalog.portal.dependencies import PortalRoute, page_request, show
from catalog.portal.operator import issuing
from catalog.portal.operator.dashboard import chart_of, dashboard
from catalog.portal.operator.dependencies import refused, see_other
from catalog.portal.operator.problems import Problem, problem_of
from catalog.portal.operator.queue import review_queue
from catalog.portal.operator.review import open_objections, review
from catalog.portal.operator.seconds import awaiting_second
from catalog.web.dependencies import CatalogConfig
from registry import certificates, entities, objections, participant_credentials, registrations
from registry.config import RegistrySettings
from registry.dependencies import RegistryConfig
from registry.enums import EntityStatus
from registry.schemas import ObjectionResolution
from storage.exceptions import DomainError

router = APIRouter(prefix="/console/operator", include_in_schema=False, route_class=PortalRoute)

Text = Annotated[str, Form(max_length=2000)]
LongText = Annotated[str, Form(max_length=8000)]
Done = Annotated[str | None, Query(max_length=40)]
StepName = Literal["accept", "return", "refuse", "pass-review"]
PER_PAGE = 25


def _page(http: HttpRequest, template: str, status: int = 200, **data: Any) -> Response:
    """A console page in the request's language."""
    return show(http, page_request(http), f"operator/{template}", status, **data)


# ---------------------------------------------------------------- the review queue and a registration


@router.get("")
def queue(
    http: HttpRequest, caller: AnyCaller, session: DbSession, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> Response:
    """Registrations waiting for the staff, soonest deadline first, overdue ones flagged."""
    if (answer := refused(http, caller)) is not None:
        return answer
    return _page(http, "queue.html", queue=review_queue(session, page))


def _review_page(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    settings: RegistrySettings,
    registration_id: str,
    problem: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The review page again, with what was wrong with a form and what was typed into it."""
    shown = review(session, caller, settings, registration_id)
    status = problem.status if problem else 200
    return _page(http, "registration.html", status, review=shown, problem=problem, typed=typed or {}, done=None)


@router.get("/registrations/{registration_id}")
def registration(
    registration_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    done: Done = None,
) -> Response:
    """A registration under review: its subject, registrant, deadlines and history, and the steps open now."""
    if (answer := refused(http, caller)) is not None:
        return answer
    shown = review(session, caller, settings, registration_id)
    return _page(http, "registration.html", review=shown, problem=None, typed={}, done=done)


@router.post("/registrations/{registration_id}/steps/{action}")
def take_step(
    registration_id: str,
    action: StepName,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    reason: Text = "",
    missing_items: LongText = "",
) -> Response:
    """Accept, return for supplement (one missing item a line), refuse (with reasons) or pass the formal review."""
    if (answer := refused(http, caller)) is not None:
        return answer
    items = [line.strip() for line in missing_items.splitlines() if line.strip()]
    try:
        registrations.take_step(
            session,
            caller,
            settings,
            registration_id,
            action,
            reason=reason.strip() or None,
            missing_items=items if action == "return" else None,
        )
    except DomainError as error:
        session.rollback()
        typed = {"reason": reason, "missing_items": missing_items}
        return _review_page(http, session, caller, settings, registration_id, problem_of(action, error), typed)
    return see_other(http, f"/registrations/{registration_id}", {"done": action})


@router.post("/registrations/{registration_id}/objections/{objection_id}")
def resolve(
    registration_id: str,
    objection_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Text = "",
    back: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Uphold an objection (the registration is refused) or dismiss it (the notice goes on), stating why."""
    if (answer := refused(http, caller)) is not None:
        return answer
    form = f"resolve-{objection_id}"
    try:
        body = ObjectionResolution.model_validate(
            {"objection_id": objection_id, "decision": decision, "reason": reason.strip()}
        )
        objections.resolve_objection(
            session, caller, settings, registration_id, objection_id, body.decision, body.reason
        )
    except (DomainError, ValidationError) as error:
        session.rollback()
        problem = problem_of(form, error)
        if back == "objections":
            return _page(
                http,
                "objections.html",
                problem.status,
                objections=open_objections(session, caller),
                problem=problem,
                done=None,
            )
        return _review_page(http, session, caller, settings, registration_id, problem, {"reason": reason})
    done = "upheld" if decision == "uphold" else "dismissed"
    if back == "objections":
        return see_other(http, "/objections", {"done": done})
    return see_other(http, f"/registrations/{registration_id}", {"done": done})


@router.get("/objections")
def objection_list(http: HttpRequest, caller: AnyCaller, session: DbSession, done: Done = None) -> Response:
    """The objections filed during public notices that wait for the staff's decision."""
    if (answer := refused(http, caller)) is not None:
        return answer
    return _page(http, "objections.html", objections=open_objections(session, caller), problem=None, done=done)


# ---------------------------------------------------------------- certificates


def _issue_page(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    settings: RegistrySettings,
    registration_id: str,
    form: issuing.IssueForm,
    preview: certificates.Preview | None = None,
    problem: Problem | None = None,
) -> Response:
    """The issue form, with the preview of its certificate or what was wrong with it."""
    shown = review(session, caller, settings, registration_id)
    status = problem.status if problem else 200
    return _page(
        http,
        "issue.html",
        status,
        review=shown,
        form=form,
        rights=issuing.all_rights(),
        preview=preview,
        problem=problem,
    )


Rights = Annotated[list[str] | None, Form(max_length=10)]
Scope = Annotated[str, Form(max_length=2000)]
EndsOn = Annotated[str, Form(max_length=10)]


@router.get("/registrations/{registration_id}/certificate")
def issue_form(
    registration_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, settings: RegistryConfig
) -> Response:
    """The form to issue a certificate for a registered subject."""
    if (answer := refused(http, caller)) is not None:
        return answer
    return _issue_page(http, session, caller, settings, registration_id, issuing.IssueForm())


@router.post("/registrations/{registration_id}/certificate/preview")
def issue_preview(
    registration_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    rights: Rights = None,
    scope: Scope = "",
    ends_on: EndsOn = "",
) -> Response:
    """What the certificate will say, checked as issuing checks it; nothing is written."""
    if (answer := refused(http, caller)) is not None:
        return answer
    form = issuing.IssueForm(tuple(rights or ()), scope, ends_on)
    try:
        shown = issuing.preview(session, caller, settings, registration_id, form)
    except (DomainError, ValidationError) as error:
        return _issue_page(http, session, caller, settings, registration_id, form, problem=problem_of("issue", error))
    return _issue_page(http, session, caller, settings, registration_id, form, preview=shown)


@router.post("/registrations/{registration_id}/certificate")
def issue(
    registration_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    rights: Rights = None,
    scope: Scope = "",
    ends_on: EndsOn = "",
) -> Response:
    """Issue the certificate the preview showed: signed, logged, and verifiable at /verify/{number}."""
    if (answer := refused(http, caller)) is not None:
        return answer
    form = issuing.IssueForm(tuple(rights or ()), scope, ends_on)
    base_url = str(http.app.state.settings.base_url).rstrip("/")
    try:
        made = certificates.issue(session, caller, settings, base_url, form.request(registration_id))
    except (DomainError, ValidationError) as error:
        session.rollback()
        return _issue_page(http, session, caller, settings, registration_id, form, problem=problem_of("issue", error))
    return see_other(http, f"/certificates/{made.number}", {"done": "issued"})


@router.get("/certificates")
def certificate_list(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """Certificates, newest first, with their status now."""
    if (answer := refused(http, caller)) is not None:
        return answer
    found = certificates.list_certificates(session, holder=None, subject_id=None, limit=PER_PAGE, cursor=cursor)
    return _page(http, "certificates.html", certificates=found)


@router.get("/certificates/{number}")
def certificate(number: str, http: HttpRequest, caller: AnyCaller, session: DbSession, done: Done = None) -> Response:
    """A certificate: what it says, its status, its public verification page, and the form to revoke it."""
    if (answer := refused(http, caller)) is not None:
        return answer
    shown = issuing.certificate_view(session, number)
    return _page(http, "certificate.html", view=shown, problem=None, done=done, typed="")


@router.post("/certificates/{number}/revoke")
def revoke(number: str, http: HttpRequest, caller: AnyCaller, session: DbSession, reason: Text = "") -> Response:
    """Revoke a certificate, stating why; its verification page then says it is revoked."""
    if (answer := refused(http, caller)) is not None:
        return answer
    try:
        certificates.revoke(session, caller, number, reason)
    except DomainError as error:
        session.rollback()
        problem = problem_of("revoke", error)
        shown = issuing.certificate_view(session, number)
        return _page(http, "certificate.html", problem.status, view=shown, problem=problem, done=None, typed=reason)
    return see_other(http, f"/certificates/{number}", {"done": "revoked"})


# ---------------------------------------------------------------- entities


def _entities_page(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    status: EntityStatus | None,
    cursor: str | None,
    problem: Problem | None = None,
    done: str | None = None,
) -> Response:
    """The entities list, filtered by status, with what was wrong with a form or what was just done."""
    found = entities.search_entities(session, caller, q=None, status=status, limit=PER_PAGE, cursor=cursor)
    shown = status.value if status else ""
    code = problem.status if problem else 200
    return _page(http, "entities.html", code, entities=found, filter_status=shown, problem=problem, done=done)


@router.get("/entities")
def entity_list(
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    status: EntityStatus | None = None,
    cursor: Cursor = None,
    done: Done = None,
) -> Response:
    """Registrant entities with their status, to verify or suspend."""
    if (answer := refused(http, caller)) is not None:
        return answer
    return _entities_page(http, session, caller, status, cursor, done=done)


@router.post("/entities/{entity_id}/{action}")
def entity_status(
    entity_id: str,
    action: Literal["verify", "suspend"],
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    reason: Text = "",
) -> Response:
    """Verify an entity, or suspend it stating why."""
    if (answer := refused(http, caller)) is not None:
        return answer
    target = EntityStatus.verified if action == "verify" else EntityStatus.suspended
    try:
        settings = http.app.state.settings
        terms = participant_credentials.terms_of(settings.registry, str(settings.base_url))
        entities.set_status(session, caller, entity_id, target, reason.strip() or None, participants=terms)
    except DomainError as error:
        session.rollback()
        return _entities_page(http, session, caller, None, None, problem_of(f"{action}-{entity_id}", error))
    return see_other(http, "/entities", {"done": action})


# ---------------------------------------------------------------- access requests waiting for a second


@router.get("/access-requests")
def access_requests(
    http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None, done: Done = None
) -> Response:
    """Access requests approved by their provider that wait for an operator's second."""
    if (answer := refused(http, caller)) is not None:
        return answer
    return _page(
        http, "access_requests.html", waiting=awaiting_second(session, caller, cursor), problem=None, done=done
    )


@router.post("/access-requests/{request_id}/{action}")
def second(
    request_id: str,
    action: Literal["approve", "reject"],
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: CatalogConfig,
    reason: Text = "",
) -> Response:
    """Second a provider's approval (the grant then exists), or reject the request with a reason."""
    if (answer := refused(http, caller)) is not None:
        return answer
    try:
        if action == "approve":
            decision = Decision(reason=reason.strip() or None)
            requests.approve_request(
                session, caller, request_id, decision, operator_second=settings.access_operator_second
            )
        else:
            requests.reject_request(session, caller, request_id, Reason(reason=reason.strip()).reason)
    except (DomainError, ValidationError) as error:
        session.rollback()
        problem = problem_of(f"{action}-{request_id}", error)
        waiting = awaiting_second(session, caller, None)
        return _page(http, "access_requests.html", problem.status, waiting=waiting, problem=problem, done=None)
    return see_other(http, "/access-requests", {"done": action})


# ---------------------------------------------------------------- the dashboard


@router.get("/dashboard")
def overview(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """Registrations by month and by state, certificates issued and revoked, downloads by month, as bar charts."""
    if (answer := refused(http, caller)) is not None:
        return answer
    return _page(http, "dashboard.html", figures=dashboard(session), chart_of=chart_of)
