"""The `sossut` command line (Click): the only place that prints, exits or configures logging."""

from pipeline.cli.main import App, cli, command_options, main

__all__ = ["App", "cli", "command_options", "main"]
