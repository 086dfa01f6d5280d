"""The studio's "Kommentit" view: a pile of comments -> the inbox, and "Vastaa" -> a new reply job.

In: comments pasted in the page (one a line) or a comments file (TXT one a line, CSV with a
`comment` column, JSON list: `read_comments_file`, the CLI's reader), and the answered ledger
(`[ledger]` in the settings). Out: the pile as `comments/pile.json` in the studio folder (folder
0700, file 0600), so a reload loses nothing; JSON of `Inbox.to_json()` (sorted, categories with
Finnish explanations, near-duplicate questions grouped, answered ones marked), hate counted and
sent only when asked (`?hate=1`); and a new job whose comment is the one answered.

Comment text is never logged, only counts. The tool never sends a comment anywhere: a disclosure
gets a reminder in the page, nothing else.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline.comments import (
    PERSONAL_RESPONSE,
    Inbox,
    Ledger,
    build_inbox,
    hate_categories,
    ledger_folder,
    load_lists,
    mask_options,
    read_comments_file,
    read_ledger,
    worker_name,
)
from pipeline.config import Settings
from pipeline.errors import InputError, PipelineError
from pipeline.files import atomic_write
from pipeline.studio.jobs import FILE_MODE, FOLDER_MODE, MAX_COMMENT_CHARS, display_name

if TYPE_CHECKING:
    from pipeline.studio.app import Studio

log = logging.getLogger(__name__)

FOLDER_NAME = "comments"
PILE_NAME = "pile.json"
MAX_COMMENTS = 2000  # sorting takes a few ms a comment; a pile past this is split by the workers
MAX_FILE_BYTES = 20 * 1024 * 1024
FILE_SUFFIXES = (".txt", ".csv", ".json")
ANSWERABLE = ("question", "other")  # never "personal": a disclosure is not answered with a public video

Handler = Callable[["Studio", Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Pile:
    """The comments of the view, in the order given; `version` changes with every save."""

    comments: tuple[str, ...] = ()
    version: str = ""
    updated: float = 0.0
    draft: str = ""  # pasted in the page but not sorted yet

    def to_json(self) -> dict[str, Any]:
        return {"comments": list(self.comments), "version": self.version, "updated": self.updated,
                "draft": self.draft}


class Piles:
    """The studio folder's pile and its sorted inbox (kept until the pile changes)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / FOLDER_NAME
        self.path = self.folder / PILE_NAME
        self._lock = threading.Lock()
        self._inbox: tuple[str, Inbox] | None = None

    def read(self) -> Pile:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            comments = tuple(str(c) for c in data["comments"])
            return Pile(comments, str(data["version"]), float(data.get("updated", 0.0)), str(data.get("draft", "")))
        except FileNotFoundError:
            return Pile()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the comments pile is unreadable (%s); starting an empty one", exc.__class__.__name__)
            return Pile()

    def add(self, comments: list[str], *, keep_draft: bool = False) -> Pile:
        """The pile with `comments` added after the ones it has (pasted ones were the draft).

        Raises:
            InputError: the pile would hold more than `MAX_COMMENTS`.
        """
        with self._lock:
            old = self.read()
            kept = [c.strip()[:MAX_COMMENT_CHARS] for c in comments if c.strip()]
            if len(old.comments) + len(kept) > MAX_COMMENTS:
                raise InputError(f"{len(old.comments) + len(kept)} comments; at most {MAX_COMMENTS} at a time",
                                 hint="split the file, or clear the list first")
            pile = Pile((*old.comments, *kept), secrets.token_hex(6), time.time(), old.draft if keep_draft else "")
            self._write(pile)
            return pile

    def save_draft(self, text: str) -> Pile:
        """Keep what is in the paste box, so a reload before "Lajittele" loses nothing."""
        with self._lock:
            pile = replace(self.read(), draft=text)
            if pile.comments or text:
                self._write(pile)
            else:
                self.path.unlink(missing_ok=True)
            return pile

    def clear(self) -> Pile:
        with self._lock:
            self.path.unlink(missing_ok=True)
            self._inbox = None
            return Pile()

    def inbox(self, pile: Pile, settings: Settings) -> Inbox:
        """The pile sorted (no ledger marks: those are added per request, the ledger changes)."""
        cached = self._inbox
        if cached is not None and cached[0] == pile.version:
            return cached[1]
        configured = settings.privacy.moderation_lists
        lists = load_lists([Path(configured)]) if configured else None
        inbox = build_inbox(pile.comments, lists, options=mask_options(settings.privacy))
        self._inbox = (pile.version, inbox)
        return inbox

    def _write(self, pile: Pile) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, FOLDER_MODE)
        atomic_write(self.path, json.dumps(pile.to_json(), ensure_ascii=False), mode=FILE_MODE)


def split_pasted(text: str) -> list[str]:
    """Pasted comments: one a line, blank lines skipped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def marked(inbox: Inbox, pile: Pile, ledger: Ledger | None) -> Inbox:
    """The inbox with each comment's answers in the ledger."""
    if ledger is None or ledger.key is None:
        return inbox
    items = tuple(replace(i, answered=tuple(ledger.answers(pile.comments[i.number - 1]))) for i in inbox.items)
    return replace(inbox, items=items)


def view(studio: Studio, include_hate: bool) -> dict[str, Any]:
    """What the page shows: the inbox, who answers, where the ledger is, and what went wrong."""
    piles = studio.piles
    pile = piles.read()
    inbox = piles.inbox(pile, studio.settings)
    warnings: list[dict[str, str]] = []
    folder = ledger_folder(studio.settings)
    ledger = None
    try:
        ledger = read_ledger(folder)
    except PipelineError as exc:
        warnings.append({"key": "ledger_unreadable", "message": exc.message, "hint": exc.hint})
    try:
        worker: str | None = worker_name(studio.settings)
    except InputError as exc:
        worker = None
        warnings.append({"key": "worker_invalid", "message": exc.message, "hint": exc.hint})
    hate: dict[str, int] = {}
    for item in inbox.items:
        if item.section == "hate":
            for category in hate_categories(item.hits):
                hate[category] = hate.get(category, 0) + 1
    return {
        "version": pile.version,
        "total": len(pile.comments),
        "draft": pile.draft,
        "inbox": marked(inbox, pile, ledger).to_json(include_hate=include_hate),
        "hate_categories": hate,
        "worker": worker,
        "worker_configured": bool(studio.settings.ledger.worker.strip()),
        "ledger_folder": str(folder),
        "warnings": warnings,
    }


# --- routes ----------------------------------------------------------------------------------


async def get_comments(studio: Studio, request: Request) -> Response:
    include_hate = request.query_params.get("hate") == "1"
    return JSONResponse(await run_in_threadpool(view, studio, include_hate))


async def add_pasted(studio: Studio, request: Request) -> Response:
    """`{"text": "..."}`: pasted comments, one a line, added to the pile."""
    comments = split_pasted(await _text(request))
    pile = await run_in_threadpool(studio.piles.add, comments)
    log.info("studio: %d comments pasted (%d in the list)", len(comments), len(pile.comments))
    return JSONResponse(await run_in_threadpool(view, studio, False))


async def save_draft(studio: Studio, request: Request) -> Response:
    """`{"text": "..."}`: the paste box as it is, kept until the comments are sorted."""
    text = await _text(request)
    await run_in_threadpool(studio.piles.save_draft, text)
    return JSONResponse({"saved": True})


async def _text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_FILE_BYTES:
        raise ValueError("too large")
    values = json.loads(body or b"{}")
    text = values.get("text") if isinstance(values, dict) else None
    if not isinstance(text, str):
        raise ValueError("text")
    return text


async def add_file(studio: Studio, request: Request) -> Response:
    """A comments file as the raw request body (`X-File-Name` says its type), read as the CLI
    reads it, its comments added to the pile. The file itself is not kept."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        return _error(413, "comments_file_too_large")
    name = display_name(unquote(request.headers.get("x-file-name", "kommentit.txt")))
    suffix = Path(name).suffix.lower()
    if suffix not in (*FILE_SUFFIXES, ".xlsx", ".xls", ".ods"):
        suffix = ".txt"
    piles = studio.piles
    piles.folder.mkdir(parents=True, exist_ok=True)
    os.chmod(piles.folder, FOLDER_MODE)
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=suffix, dir=piles.folder)
    tmp = Path(tmp_name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    return _error(413, "comments_file_too_large")
                fh.write(chunk)
        comments = await run_in_threadpool(read_comments_file, tmp)
    finally:
        tmp.unlink(missing_ok=True)
    if not comments:
        raise InputError(f"{name}: no comments in the file")
    pile = await run_in_threadpool(lambda: piles.add(comments, keep_draft=True))
    log.info("studio: %d comments from a %s file (%d in the list)", len(comments), suffix, len(pile.comments))
    return JSONResponse(await run_in_threadpool(view, studio, False))


async def clear_comments(studio: Studio, request: Request) -> Response:
    await run_in_threadpool(studio.piles.clear)
    log.info("studio: the comments list was cleared")
    return JSONResponse(await run_in_threadpool(view, studio, False))


async def answer_comment(studio: Studio, request: Request) -> Response:
    """"Vastaa": `{"number", "version"}` -> a new job with that comment on its card (masked there
    as usual); a grouped question brings its group along, so one video marks them all answered."""
    body = await request.body()
    if len(body) > 4096:
        raise ValueError("too large")
    values = json.loads(body or b"{}")
    if not isinstance(values, dict):
        raise ValueError("expected an object")
    number, version = values.get("number"), values.get("version")
    if isinstance(number, bool) or not isinstance(number, int) or not isinstance(version, str):
        raise ValueError("number, version")
    pile = await run_in_threadpool(studio.piles.read)
    if version != pile.version:
        return _error(409, "comments_changed")
    inbox = await run_in_threadpool(studio.piles.inbox, pile, studio.settings)
    item = next((i for i in inbox.items if i.number == number), None)
    if item is None:
        return _error(404, "not_found")
    if item.section not in ANSWERABLE or any(c in PERSONAL_RESPONSE for c in item.categories):
        return _error(400, "not_answerable")
    members = [item.number]
    if item.group is not None:
        members = list(next(g.items for g in inbox.groups if g.number == item.group))
    texts = [pile.comments[n - 1] for n in members]
    job = await run_in_threadpool(studio.store.create_reply, pile.comments[number - 1], texts)
    log.info("studio: job %s answers %d comments of the list", job.id, len(texts))
    return JSONResponse(studio.store.summary(job), status_code=201)


def _error(status: int, key: str, message: str = "", hint: str = "") -> JSONResponse:
    return JSONResponse({"error": {"key": key, "message": message, "hint": hint}}, status_code=status)


def routes(wrap: Callable[[Handler], Any]) -> list[Route]:
    """The view's routes, each handler wrapped as the app wraps its own (errors to JSON)."""
    return [
        Route("/api/comments", wrap(get_comments), methods=["GET"]),
        Route("/api/comments", wrap(add_pasted), methods=["POST"]),
        Route("/api/comments", wrap(clear_comments), methods=["DELETE"]),
        Route("/api/comments/draft", wrap(save_draft), methods=["PUT"]),
        Route("/api/comments/file", wrap(add_file), methods=["POST"]),
        Route("/api/comments/answer", wrap(answer_comment), methods=["POST"]),
    ]
