"""`sossut comments check FILE`: a table of the flags of each comment in a file.

A report: it exits 0 even when comments are flagged; an unreadable file exits 1, a missing
`--lists` folder or file is a usage error (exit 2). Comments are shown cleaned and with their
personal data masked; matched words are the comment's own.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.cli.main import App, command_options
from pipeline.comments import (
    CATEGORY_NAMES,
    PERSONAL_DATA,
    SELF_HARM_HINT,
    Flag,
    check_comment,
    clean_display_text,
    load_lists,
    mask_personal_data,
    needs_personal_response,
    read_comments_file,
)

_SHOWN_CHARS = 120  # of each comment in the table


@click.group()
def comments() -> None:
    """Check viewer comments before answering them."""


@comments.command("check")
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "--lists",
    "extra_lists",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Extra word lists: a directory of *.txt (or one .txt file) named by category. Repeatable.",
)
@click.option("--flagged-only", is_flag=True, help="List only the comments that have flags.")
@command_options
def check(app: App, file: Path, extra_lists: tuple[Path, ...], flagged_only: bool) -> None:
    """Flag insults, slurs, threats, sexual content, self-harm signals and personal data in FILE.

    FILE is TXT (one comment a line), CSV with a `comment` column, or JSON (a list of strings
    or of objects with "comment").
    """
    configured = app.settings.privacy.moderation_lists
    lists = load_lists([*([Path(configured)] if configured else []), *extra_lists])
    texts = read_comments_file(file)
    console = Console(highlight=False)
    if not texts:
        console.print(Text(f"no comments in {file.name}"))
        return

    table = Table("#", "comment", "flags", show_lines=True)
    flagged: list[int] = []
    personal: list[int] = []
    for number, text in enumerate(texts, 1):
        flags = check_comment(text, lists)
        if flags:
            flagged.append(number)
        if needs_personal_response(flags):
            personal.append(number)
        if flagged_only and not flags:
            continue
        # Text(...) so that "[bold]" in a comment is shown, not taken as rich markup.
        table.add_row(str(number), Text(_shown(text)), Text(_describe(flags) or "-"))
    console.print(table)
    console.print(Text(f"{len(flagged)} of {len(texts)} comments flagged"))
    for number in personal:
        console.print(Text(f"#{number}: {SELF_HARM_HINT}"), style="bold")


def _shown(text: str) -> str:
    # Cleaned as in check_comment, so the positions of personal data match what is shown.
    shown = mask_personal_data(clean_display_text(text, keep_newlines=True)).text
    return shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 1] + "…"


def _describe(flags: list[Flag]) -> str:
    by_category: dict[str, list[str]] = {}
    for flag in flags:
        by_category.setdefault(flag.category, []).append(flag.matched)
    lines = []
    for category, matched in by_category.items():
        name = CATEGORY_NAMES.get(category, category)
        if category == PERSONAL_DATA:
            lines.append(f"{name}: {', '.join(matched)}")  # kinds and positions, never values
        else:
            quoted = ", ".join(f"“{m}”" for m in matched)
            lines.append(f"{name}: {quoted}")
    return "\n".join(lines)


COMMANDS: list[click.Command] = [comments]
