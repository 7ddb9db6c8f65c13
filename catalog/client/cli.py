"""The `pdrc` console script: the account, catalog and exchange commands, and the transfer commands."""

from __future__ import annotations

from catalog.client.commands import app
from catalog.client.transfer_commands import TRANSFER_COMMANDS

__all__ = ["app", "main"]

for _name, _command in TRANSFER_COMMANDS.items():
    app.command(_name)(_command)


def main() -> None:
    """Run `pdrc`."""
    app()
