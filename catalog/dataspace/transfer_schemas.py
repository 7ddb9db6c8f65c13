"""Request and response bodies of transfers: the native API's, and the Dataspace Protocol's transfer messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.dataspace.documents import TRANSFER_FORMAT
from catalog.dataspace.schemas import CodedMessage, ProtocolMessage


class TransferCreate(BaseModel):
    """A consumer's request for a pull transfer under one of its finalized agreements."""

    model_config = ConfigDict(extra="forbid")

    agreement_id: str = Field(min_length=1, max_length=300, description="the agreement's id or its @id")
    format: str = Field(default=TRANSFER_FORMAT, max_length=60)
    consumer_pid: str | None = Field(default=None, min_length=1, max_length=200)


class TransferStepIn(BaseModel):
    """A party's step on a transfer: why (kept with the step), and a code for a suspension or a termination."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)
    code: str | None = Field(default=None, max_length=100)


class TransferStepPublic(BaseModel):
    """One step: who took it (consumer, provider, or system: pdr starting it, or the policy monitor ending it)."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    side: str
    actor_id: str | None
    state: str
    message_type: str
    message: dict[str, Any]
    reason: str | None
    at: datetime


class TransferPublic(BaseModel):
    """A transfer process: its parties, agreement, state and steps; the data address when a token was handed out."""

    id: str
    provider_pid: str
    consumer_pid: str
    agreement_id: str
    dataset_id: str
    provider_entity_id: str
    account_id: str
    grant_id: str
    format: str
    state: str
    created_at: datetime
    updated_at: datetime
    data_address: dict[str, Any] | None = Field(
        default=None, description="a DataAddress whose `authorization` property is the access token, shown once"
    )
    steps: list[TransferStepPublic] | None = None


class TransferFilePublic(BaseModel):
    """A file the transfer delivers, and where to pull it with the transfer's access token."""

    id: str
    name: str
    version: int
    size: int
    sha256: str
    media_type: str
    url: str


class TransferRequestIn(ProtocolMessage):
    """The protocol's TransferRequestMessage (pull transfers: no dataAddress)."""

    type: Literal["TransferRequestMessage"] = Field(alias="@type")
    agreementId: str = Field(min_length=1, max_length=300)
    format: str = Field(min_length=1, max_length=60)
    callbackAddress: str = Field(max_length=2000)
    dataAddress: dict[str, Any] | None = None


class TransferStartIn(ProtocolMessage):
    """The protocol's TransferStartMessage (a consumer restarting a suspended transfer)."""

    type: Literal["TransferStartMessage"] = Field(alias="@type")
    dataAddress: dict[str, Any] | None = None


class TransferCompletionIn(ProtocolMessage):
    """The protocol's TransferCompletionMessage."""

    type: Literal["TransferCompletionMessage"] = Field(alias="@type")


class TransferSuspensionIn(CodedMessage):
    """The protocol's TransferSuspensionMessage."""

    type: Literal["TransferSuspensionMessage"] = Field(alias="@type")


class TransferTerminationIn(CodedMessage):
    """The protocol's TransferTerminationMessage."""

    type: Literal["TransferTerminationMessage"] = Field(alias="@type")
