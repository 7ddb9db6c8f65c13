"""What issuing reads under the log's lock before it signs, in one statement: the log's size and newest checkpoint,
how far the certificates' status list reaches, and which keys sign now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, true
from sqlmodel import Session, col

from registry import status_list
from registry.keys import ISSUER, LOG, KeyRing, Signer, active_key_id
from registry.log import entry_count
from registry.models import LogCheckpoint
from registry.status_list import CERTIFICATES, Allocation


@dataclass(frozen=True)
class IssueHead:
    """The log's head and the status list's reach as an issue finds them, with the ids of the keys that sign now."""

    size: int
    last: LogCheckpoint
    list_length: int | None
    list_url: str | None
    key_ids: dict[str, str]

    def url_covering(self, index: int) -> str | None:
        """The published status list's URL when it has the bit at `index` already (no new version is needed)."""
        return self.list_url if self.list_length is not None and index < self.list_length else None


def read_head(session: Session) -> IssueHead | None:
    """The head an issue starts from, read in one statement under the log's lock; None while the log has no
    checkpoint (the first appends read each part on their own)."""
    newest_list = status_list.newest_version(CERTIFICATES).subquery()
    found = session.execute(
        select(
            LogCheckpoint,
            select(entry_count()).scalar_subquery(),
            newest_list.c.length,
            newest_list.c.credential["id"].as_string(),
            active_key_id(ISSUER),
            active_key_id(LOG),
        )
        .outerjoin(newest_list, true())
        .order_by(col(LogCheckpoint.tree_size).desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    last, size, length, url, issuer_id, log_id = found
    key_ids = {purpose: key_id for purpose, key_id in ((ISSUER, issuer_id), (LOG, log_id)) if key_id is not None}
    return IssueHead(int(size), last, None if length is None else int(length), url, key_ids)


@dataclass(frozen=True)
class ReadAhead:
    """What an issue needs before it signs: the certificates' status bits, the issuer's and the log's signers, and
    the log's head when nothing has been appended since it was read."""

    slots: list[Allocation]
    signers: dict[str, Signer]
    log_head: tuple[int, LogCheckpoint] | None


def read_ahead(session: Session, keyring: KeyRing, base_url: str, bits: range) -> ReadAhead:
    """The status bits taken from the list's counter placed, and the signers and the log's head read, in one
    statement when the log has a checkpoint and the published list covers the bits."""
    head = read_head(session)
    url = None if head is None else head.url_covering(bits[-1] - 1)
    if head is None or url is None:
        # A first issue, or one that needs a longer list: that is published, and logged, before anything else.
        slots = status_list.allocations(session, base_url, bits)
        return ReadAhead(slots, keyring.signers(session, [ISSUER, LOG]), None)
    slots = status_list.covered_allocations(url, bits)
    return ReadAhead(slots, keyring.signers_by_id(session, head.key_ids, [ISSUER, LOG]), (head.size, head.last))
