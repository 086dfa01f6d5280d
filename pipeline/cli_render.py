"""`sossut render`, `sossut card`, `sossut demo`."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
