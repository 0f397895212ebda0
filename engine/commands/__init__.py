"""Subcommands of the digitlab command line."""
