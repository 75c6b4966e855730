"""CLI subcommands, one module per command group (see prismaudio.cli.COMMAND_MODULES)."""
