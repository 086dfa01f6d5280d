"""The `sossut` command (Click). The only place that prints, exits or configures logging.

Commands parse options, load settings, call one core function and report. Known errors
(`PipelineError`) become one line on stderr and exit code 1; usage errors, bad option values
included, exit 2 before any work starts (`cli/options.py`); `--debug` shows tracebacks.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline import __version__
from pipeline.config import Settings, load_settings
from pipeline.errors import PipelineError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """What every command gets: settings and how to talk to the user."""

    settings: Settings
    debug: bool
    quiet: bool = False

    def info(self, message: str) -> None:
        if not self.quiet:
            click.echo(message, err=True)

    def warn(self, message: str) -> None:
        click.echo(f"warning: {message}", err=True)


def _raise_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so `finally:` blocks clean temp files and children."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. called from tests in a thread)
        pass


def command_options(func: F) -> F:
    """`--config` and `--debug` on every command; turns known errors into one line."""

    @click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
        default=None,
        help="TOML file overriding keys of config/default.toml.",
    )
    @click.option("--debug", is_flag=True, help="Show tracebacks and ffmpeg command lines.")
    @functools.wraps(func)
    def wrapper(*args: Any, config_file: Path | None, debug: bool, **kwargs: Any) -> Any:
        debug = debug or bool(os.environ.get("SOSSUT_DEBUG"))
        logging.basicConfig(
            level=logging.DEBUG if debug else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        _raise_on_sigterm()
        try:
            app = App(settings=load_settings(config_file), debug=debug)
            return func(app, *args, **kwargs)
        except PipelineError as exc:
            if debug:
                raise
            click.echo(f"error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"  hint: {exc.hint}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


# Command name -> the module defining it: a command's module (and its heavy imports: models,
# Dask, word lists) is imported only when that command runs; `--help` imports them all.
_COMMAND_MODULES = {
    "render": "pipeline.cli.render",
    "card": "pipeline.cli.render",
    "demo": "pipeline.cli.render",
    "transcribe": "pipeline.cli.transcribe",
    "batch": "pipeline.cli.batch",
    "session": "pipeline.cli.batch",
    "comments": "pipeline.cli.comments",
    "studio": "pipeline.cli.studio",
    "check": "pipeline.cli.check",
    "duet": "pipeline.cli.duet",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMAND_MODULES:
            module = importlib.import_module(_COMMAND_MODULES[cmd_name])
            for command in module.COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sossut")
def cli() -> None:
    """Turn a phone clip and a viewer comment into a TikTok reply video."""


def main() -> None:
    """Entry point of the `sossut` console script."""
    cli()


def _register_commands() -> None:
    """Import every command now (tests and tools that look at `cli.commands`)."""
    for name in _COMMAND_MODULES:
        cli.get_command(click.Context(cli), name)
