"""The data space: access requests become contract negotiations.

Adds negotiation.request_id and negotiation.product_id (a negotiation is about a dataset or, for a mirrored request,
a registered product), and mirrors every access request already on file as a negotiation (requests a
negotiation made itself are left out; a negotiation that mirrored a request before a downgrade is tied to it again): pending ones and those awaiting an operator's second are REQUESTED, refused
ones TERMINATED, approved ones FINALIZED with their grant. An approval made before this has no signed agreement (a
migration holds no signing key): its negotiation's agreement stays empty, and its grant works as before.

Revision ID: 0018_request_negotiations
Revises: 0017_data_services
Create Date: 2026-11-30
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.ids import new_id

revision: str = "0018_request_negotiations"
down_revision: str | None = "0017_data_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: what the code wrote when this migration was made.
DSPACE_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
PROFILE = "https://pdr.example/odrl/profile"
MAX_TEXT = 200
STATES = {"pending": "REQUESTED", "provider_approved": "REQUESTED", "approved": "FINALIZED", "rejected": "TERMINATED"}
REQUEST = sa.table(
    "access_request",
    *(
        sa.column(name)
        for name in (
            "id", "account_id", "entity_id", "dataset_id", "product_id", "provider_entity_id", "purpose", "scenario",
            "use_category", "requested_from", "requested_until", "state", "decision_reason", "decided_by",
            "decided_at", "approved_until", "approved_quota", "grant_id", "created_at", "updated_at",
        )
    ),
)  # fmt: skip
NEGOTIATION = sa.table(
    "negotiation",
    *(sa.column(name) for name in ("id", "consumer_pid", "dataset_id", "product_id", "offer_id", "provider_entity_id")),
    *(sa.column(name) for name in ("account_id", "entity_id", "state", "offer_iri", "offered_by", "grant_id")),
    sa.column("offer", sa.JSON()),
    sa.column("agreement", sa.JSON()),
    *(sa.column(name) for name in ("callback_address", "request_id", "created_at", "updated_at")),
)
STEP = sa.table(
    "negotiation_step",
    *(sa.column(name) for name in ("id", "negotiation_id", "seq", "side", "actor_id", "state", "message_type")),
    sa.column("message", sa.JSON()),
    *(sa.column(name) for name in ("reason", "at")),
)


def _terms(row: Any) -> dict[str, Any]:
    until = row.approved_until if row.state == "approved" and row.approved_until else row.requested_until
    constraints: list[dict[str, Any]] = [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": row.purpose.strip()[:MAX_TEXT]},
        {"leftOperand": "scenario", "operator": "eq", "rightOperand": row.scenario.strip()[:MAX_TEXT]},
        {"leftOperand": "useCategory", "operator": "eq", "rightOperand": row.use_category},
        {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": str(row.requested_from)[:10]},
        {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": str(until)[:10]},
        {"leftOperand": "modelContract", "operator": "eq", "rightOperand": "data_provision"},
    ]
    if row.state == "approved" and row.approved_quota is not None:
        constraints.append({"leftOperand": "count", "operator": "lteq", "rightOperand": str(row.approved_quota)})
    return {"permission": [{"action": "use", "constraint": constraints}]}


def _head(message_type: str, negotiation_id: str, consumer_pid: str) -> dict[str, Any]:
    return {
        "@context": [DSPACE_CONTEXT],
        "@type": message_type,
        "providerPid": f"urn:pdr:negotiation:{negotiation_id}",
        "consumerPid": consumer_pid,
    }


def _steps(row: Any, negotiation: dict[str, Any]) -> list[dict[str, Any]]:
    """The request as the consumer's step, and how it was decided as the provider's."""
    nid, cpid = negotiation["id"], negotiation["consumer_pid"]
    offer = {"@id": negotiation["offer_iri"], "@type": "Offer", "profile": PROFILE}
    target = f"urn:pdr:dataset:{row.dataset_id}" if row.dataset_id else f"urn:pdr:product:{row.product_id}"
    offer.update(target=target, **negotiation["offer"])
    request = {**_head("ContractRequestMessage", nid, cpid), "offer": offer}
    steps: list[tuple[int, str, Any, str, dict[str, Any], str | None, datetime]] = [
        (1, "consumer", row.account_id, "REQUESTED", request, None, row.created_at)
    ]
    decided_at: datetime = row.decided_at or row.updated_at
    if row.state == "approved":
        event = {**_head("ContractNegotiationEventMessage", nid, cpid), "eventType": "FINALIZED"}
        note = "approved as an access request before requests were negotiations: no signed agreement"
        steps.append((2, "provider", row.decided_by, "FINALIZED", event, note, decided_at))
    elif row.state == "rejected":
        ended = _head("ContractNegotiationTerminationMessage", nid, cpid)
        if row.decision_reason:
            ended["reason"] = [row.decision_reason]
        steps.append((2, "provider", row.decided_by, "TERMINATED", ended, row.decision_reason, decided_at))
    return [
        {"id": new_id(), "negotiation_id": nid, "seq": seq, "side": side, "actor_id": actor, "state": state}
        | {"message_type": message["@type"], "message": message, "reason": reason, "at": at}
        for seq, side, actor, state, message, reason, at in steps
    ]


def _mirror_existing() -> None:
    connection = op.get_bind()
    # A negotiation that mirrored a request before a downgrade names it as its offer: tie them again.
    connection.execute(
        sa.update(NEGOTIATION)
        .where(NEGOTIATION.c.offer_id.in_(sa.select(REQUEST.c.id)))
        .values(request_id=NEGOTIATION.c.offer_id)
    )
    made_by_negotiations = sa.select(NEGOTIATION.c.grant_id).where(NEGOTIATION.c.grant_id.is_not(None))
    mirrored = sa.select(NEGOTIATION.c.request_id).where(NEGOTIATION.c.request_id.is_not(None))
    rows = connection.execute(
        sa.select(REQUEST).where(
            REQUEST.c.id.not_in(mirrored),
            sa.or_(REQUEST.c.grant_id.is_(None), REQUEST.c.grant_id.not_in(made_by_negotiations)),
        )
    ).all()
    for row in rows:
        negotiation = {
            "id": new_id(),
            "consumer_pid": f"urn:uuid:{uuid.uuid4()}",
            "dataset_id": row.dataset_id,
            "product_id": row.product_id,
            "offer_id": row.id,
            "provider_entity_id": row.provider_entity_id,
            "account_id": row.account_id,
            "entity_id": row.entity_id,
            "state": STATES.get(row.state, "REQUESTED"),
            "offer": _terms(row),
            "offer_iri": f"urn:pdr:access-request:{row.id}",
            "offered_by": "provider" if row.state == "approved" else "consumer",
            "agreement": None,
            "grant_id": row.grant_id,
            "callback_address": None,
            "request_id": row.id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        connection.execute(sa.insert(NEGOTIATION), [negotiation])
        connection.execute(sa.insert(STEP), _steps(row, negotiation))


def upgrade() -> None:
    """Add negotiation.request_id and mirror the dataset access requests on file."""
    with op.batch_alter_table("negotiation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=26), nullable=True))
        batch_op.create_unique_constraint("uq_negotiation_request_id", ["request_id"])
        batch_op.create_foreign_key("fk_negotiation_request_id", "access_request", ["request_id"], ["id"])
        batch_op.add_column(sa.Column("product_id", sa.String(length=26), nullable=True))
        batch_op.create_index(batch_op.f("ix_negotiation_product_id"), ["product_id"], unique=False)
        batch_op.create_foreign_key("fk_negotiation_product_id", "data_product", ["product_id"], ["id"])
        batch_op.alter_column("dataset_id", existing_type=sa.String(length=26), nullable=True)
    _mirror_existing()


def downgrade() -> None:
    """Drop negotiation.request_id and negotiation.product_id; the mirrored negotiations of datasets stay, as
    negotiations no longer tied to a request (some may carry signed agreements and transfers by now); those of
    products go, with their steps and agreements (the log keeps what was signed)."""
    products = sa.select(NEGOTIATION.c.id).where(NEGOTIATION.c.dataset_id.is_(None))
    agreement = sa.table("agreement", sa.column("id"))
    op.execute(sa.delete(agreement).where(agreement.c.id.in_(products)))
    op.execute(sa.delete(STEP).where(STEP.c.negotiation_id.in_(products)))
    op.execute(sa.delete(NEGOTIATION).where(NEGOTIATION.c.dataset_id.is_(None)))
    with op.batch_alter_table("negotiation", schema=None) as batch_op:
        batch_op.alter_column("dataset_id", existing_type=sa.String(length=26), nullable=False)
        batch_op.drop_constraint("fk_negotiation_product_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_negotiation_product_id"))
        batch_op.drop_column("product_id")
        batch_op.drop_constraint("fk_negotiation_request_id", type_="foreignkey")
        batch_op.drop_constraint("uq_negotiation_request_id", type_="unique")
        batch_op.drop_column("request_id")
