"""`sossut comments check FILE|-` (the inbox: sorted, categorised, grouped, answered marked) and
`sossut comments ledger` (what has been answered).

A report: it exits 0 even when comments are flagged; an unreadable file exits 1, a missing
`--lists` folder or file is a usage error (exit 2). Comments are shown cleaned and with their
personal data masked; matched words are the comment's own. Hate (threats, slurs, insults) is
counted but shown only with `--all`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.cli.main import App, command_options
from pipeline.comments import (
    CATEGORY_NAMES,
    EXPLANATIONS,
    PERSONAL_DATA,
    QUESTION,
    SECTION_TITLES,
    SECTIONS,
    SELF_HARM_HINT,
    CategoryHit,
    Inbox,
    InboxItem,
    build_inbox,
    hate_categories,
    ledger_folder,
    load_lists,
    mask_options,
    read_comments_file,
    read_ledger,
)
from pipeline.errors import InputError

_SHOWN_CHARS = 120  # of each comment in the table


@click.group()
def comments() -> None:
    """Check viewer comments before answering them."""


def _ledger_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option("--ledger", "ledger_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="The answered-ledger folder (default: config [ledger] folder).")(func)


@comments.command("check")
@click.argument("file", type=click.Path(dir_okay=True, allow_dash=True, path_type=Path))
@click.option(
    "--lists",
    "extra_lists",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Extra word lists: a directory of *.txt (or one .txt file) named by category. Repeatable.",
)
@click.option("--flagged-only", is_flag=True, help="List only the comments that have flags or are questions.")
@click.option("--all", "show_all", is_flag=True, help="Also list the hidden hate (threats, slurs, insults).")
@click.option("--json", "as_json", is_flag=True, help="Print the inbox as JSON (for scripts).")
@_ledger_option
@command_options
def check(app: App, file: Path, extra_lists: tuple[Path, ...], flagged_only: bool, show_all: bool, as_json: bool,
          ledger_dir: Path | None) -> None:
    """Sort the comments of FILE (or pasted on stdin with "-") for answering.

    \b
    First the comments that need a personal response (disclosure, self-harm), then questions
    (near-duplicates grouped), then the rest; hate is counted and hidden (--all shows it).
    Each comment gets its categories, the words that matched and why; answered comments
    (see `sossut comments ledger`) are marked.
    FILE is TXT (one comment a line), CSV with a `comment` column, or JSON (a list of strings
    or of objects with "comment").
    """
    configured = app.settings.privacy.moderation_lists
    lists = load_lists([*([Path(configured)] if configured else []), *extra_lists])
    texts = _read(file)
    ledger = read_ledger(ledger_dir or ledger_folder(app.settings))
    inbox = build_inbox(texts, lists, ledger, mask_options(app.settings.privacy))
    if as_json:
        click.echo(json.dumps(inbox.to_json(include_hate=show_all), ensure_ascii=False, indent=2))
        return
    console = Console(highlight=False)
    name = "stdin" if str(file) == "-" else file.name
    if not texts:
        console.print(Text(f"no comments in {name}"))
        return
    shown = [i for i in inbox.shown(show_all) if not (flagged_only and not i.hits)]
    for section in SECTIONS:
        items = [i for i in shown if i.section == section]
        if not items:
            continue
        table = Table("#", "comment", "flags", "answered", title=f"{SECTION_TITLES[section]} ({len(items)})",
                      title_justify="left", show_lines=True)
        for item in items:
            number = f"{item.number}" + (f"\nK{item.group}" if item.group and _group_size(inbox, item) > 1 else "")
            # Text(...) so that "[bold]" in a comment is shown, not taken as rich markup.
            table.add_row(number, Text(_shown(item.text)), Text(_describe(item.hits) or "-"), Text(_answered(item)))
        console.print(table)
    flagged = sum(1 for i in inbox.items if any(h.category != QUESTION for h in i.hits))
    questions = sum(1 for i in inbox.items if i.section == "question")
    groups = len(inbox.groups)
    console.print(Text(f"{flagged} of {len(texts)} comments flagged; {questions} questions in {groups} groups"))
    if inbox.hidden and not show_all:
        counts: dict[str, int] = {}
        for item in inbox.items:
            if item.section == "hate":
                for category in hate_categories(item.hits):
                    counts[category] = counts.get(category, 0) + 1
        listed = ", ".join(f"{CATEGORY_NAMES.get(c, c)} {n}" for c, n in counts.items())
        console.print(Text(f"{inbox.hidden} hate comments hidden ({listed}); show them with --all"))
    answered = sum(1 for i in inbox.items if i.answered)
    if answered:
        console.print(Text(f"{answered} already answered (ledger {ledger.folder})"))
    _legend(console, shown)
    for item in inbox.items:
        if item.section == "personal":
            console.print(Text(f"#{item.number}: {SELF_HARM_HINT}"), style="bold")


def _read(file: Path) -> list[str]:
    if str(file) == "-":
        text = sys.stdin.read()
        return [line.strip() for line in text.splitlines() if line.strip()]
    if file.is_dir():
        raise InputError(f"{file} is a folder", hint="give a TXT, CSV or JSON file, or - for stdin")
    return read_comments_file(file)


def _group_size(inbox: Inbox, item: InboxItem) -> int:
    return next((len(g.items) for g in inbox.groups if g.number == item.group), 1)


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _describe(hits: tuple[CategoryHit, ...]) -> str:
    lines = []
    for hit in hits:
        name = CATEGORY_NAMES.get(hit.category, hit.category)
        if hit.category == PERSONAL_DATA:
            lines.append(f"{name}: {', '.join(hit.matched)}")  # kinds and positions, never values
            continue
        weak = " (heikko)" if hit.weak else ""
        quoted = ", ".join(f"“{m}”" for m in hit.matched)
        why = "; ".join(hit.reasons)
        lines.append(f"{name}{weak}: {quoted} [{why}]" if quoted else f"{name}{weak} [{why}]")
    return "\n".join(lines)


def _answered(item: InboxItem) -> str:
    return "\n".join(f"✓ {e.date} {e.worker} ({e.output})" for e in item.answered) or "-"


def _legend(console: Console, items: list[InboxItem]) -> None:
    categories = list(dict.fromkeys(h.category for i in items for h in i.hits))
    for category in categories:
        if category in EXPLANATIONS:
            console.print(Text(f"{CATEGORY_NAMES.get(category, category)}: {EXPLANATIONS[category]}"), style="dim")


@comments.command("ledger")
@_ledger_option
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON lines.")
@command_options
def ledger(app: App, ledger_dir: Path | None, as_json: bool) -> None:
    """List the answered comments: date, worker, video (a keyed hash stands for each comment).

    Every worker's file in the ledger folder is read and merged.
    """
    book = read_ledger(ledger_dir or ledger_folder(app.settings))
    if as_json:
        for entry in book.entries:
            click.echo(json.dumps(entry.to_json(), ensure_ascii=False))
        return
    console = Console(highlight=False)
    if not book.entries:
        console.print(Text(f"no answered comments in {book.folder}"))
        return
    table = Table("date", "worker", "video", "comment (hash)")
    for entry in book.entries:
        table.add_row(entry.date, Text(entry.worker), Text(entry.output), entry.hash[:12])
    console.print(table)
    console.print(Text(f"{len(book.entries)} answers by {len(book.workers)} workers in {book.folder}"))
    if book.skipped:
        console.print(Text(f"{book.skipped} lines could not be read (damaged, or made with another key)"))


COMMANDS: list[click.Command] = [comments]
