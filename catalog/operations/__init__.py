"""The work behind each `pdr` command, one module per group of commands, each imported only when one of its
commands runs (`catalog/cli.py` holds the arguments and help)."""
