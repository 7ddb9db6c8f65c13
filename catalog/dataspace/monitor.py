"""The policy monitor: ends the running transfers whose agreement stopped holding.

Terminating or retiring an agreement ends its transfers in the same transaction (catalog.dataspace.negotiations).
What no one does by hand, an agreement or grant running out, a grant revoked on its own, is found here: every
worker sweeps every few seconds, and a transfer already ended by another worker is left alone. Bytes already on
their way are cut by the download's own watch (catalog.dataspace.transfer_data), which needs no sweep.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import or_, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from catalog.dataspace.models import Agreement, Transfer
from catalog.dataspace.transfer import RUNNING, TransferAction, TransferState
from catalog.dataspace.transfers import SYSTEM_SIDE, agreement_problem, record_step
from catalog.exchange.models import AccessGrant
from catalog.exchange.schemas import GrantState
from storage.db import SessionFactory, now_of, upgrade_to_write

log = logging.getLogger("pdr.dataspace.monitor")
SWEEP_BATCH = 500


def end_lapsed_transfers(session: Session) -> int:
    """Terminate the running transfers whose agreement or grant ended or ran out; how many this call ended."""
    now = now_of(session)
    lapsed = session.exec(
        select(Transfer)
        .join(Agreement, col(Agreement.id) == Transfer.agreement_id)
        .join(AccessGrant, col(AccessGrant.id) == Transfer.grant_id)
        .where(
            col(Transfer.state).in_(list(RUNNING)),
            or_(
                col(Agreement.status) != "valid",
                col(Agreement.valid_until) <= now,
                col(AccessGrant.state) == GrantState.revoked,
                col(AccessGrant.valid_until) <= now,
            ),
        )
        .limit(SWEEP_BATCH)
    ).all()
    if not lapsed:
        return 0
    # The conditional updates below re-check each row, so what was read before the write began stays safe to use.
    upgrade_to_write(session)
    ended = 0
    for transfer in lapsed:
        reason = agreement_problem(session, transfer, now)
        # A conditional update: a transfer another worker ended meanwhile is not ended twice.
        result = session.execute(
            update(Transfer)
            .where(col(Transfer.id) == transfer.id, col(Transfer.state).in_(list(RUNNING)))
            .values(state=TransferState.TERMINATED, updated_at=now)
        )
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            continue
        transfer.state = TransferState.TERMINATED
        record_step(session, transfer, TransferAction.terminate, SYSTEM_SIDE, None, now, reason=reason)
        ended += 1
    session.commit()
    return ended


class PolicyMonitor:
    """A daemon thread sweeping for lapsed transfers every `every` seconds until stopped."""

    def __init__(self, open_session: SessionFactory, every: float) -> None:
        self.open_session = open_session
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pdr-policy-monitor", daemon=True)

    def start(self) -> None:
        """Begin sweeping."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sweeping and wait for a sweep under way to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with self.open_session(write=False) as session:
                    ended = end_lapsed_transfers(session)
                if ended:
                    log.info("the policy monitor ended %d transfer(s)", ended)
            except Exception as error:  # an outage must not end the monitor: the next sweep tries again
                # The error's kind only: a database error's text would carry SQL into the log.
                log.warning("the policy monitor's sweep failed (%s); it tries again", type(error).__name__)
