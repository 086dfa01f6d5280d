"""The studio's HTTP routes (Starlette): the page, its static files and a small JSON API.

In: browser requests (already let through by `security.Guard`). Out: JSON, files and
server-sent events; the work itself is done by `studio.work` with the pipeline's own functions.
Errors: a `PipelineError` becomes `{"error": {"key", "message", "hint"}}` with a key the page
turns into Finnish (`static/messages.fi.json`); the server keeps running. Comment text and
captions are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.config import Settings
from pipeline.errors import InputError, PipelineError
from pipeline.files import atomic_path
from pipeline.studio import cliplist, clips_routes, comments_routes, joined, vocabulary, work
from pipeline.studio.cliplist import JobClip
from pipeline.studio.comments_routes import Piles
from pipeline.studio.jobs import FILE_MODE, JobData, JobStore, NotFound, clip_suffix, display_name, download_name
from pipeline.studio.security import Guard
from pipeline.studio.tasks import Tasks

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Studio:
    """What the routes share: the folder, the settings, the running tasks."""

    store: JobStore
    settings: Settings
    tasks: Tasks = field(default_factory=Tasks)
    vocabulary_file: Path | None = None
    preview_lock: threading.Lock = field(default_factory=threading.Lock)
    piles: Piles = field(init=False)  # the "Kommentit" view's comments

    def __post_init__(self) -> None:
        self.piles = Piles(self.store.root)

    @property
    def max_upload_bytes(self) -> int:
        return self.settings.studio.max_upload_mb * 1024 * 1024


def create_app(folder: Path, settings: Settings, *, token: str | None = None, hosts: tuple[str, ...] = (),
               vocabulary_file: Path | None = None) -> tuple[Guard, Studio]:
    """The studio as an ASGI app behind its guard.

    Args:
        folder: the studio folder (created if missing).
        settings: the pipeline settings (`[studio]` included).
        token: the per-launch secret; default a new random one.
        hosts: accepted Host header values; may be added to `guard.hosts` once the port is known.
        vocabulary_file: the person's own terms for transcription, which the page adds to
            ("Opeta sana"); default `sanasto.txt` in the studio folder.

    Returns:
        The guarded app (serve it) and the studio state (tests look at its store).
    """
    from pipeline.comments import mask_options

    folder.mkdir(parents=True, exist_ok=True)
    store = JobStore(folder, mask_options(settings.privacy))
    store.remove_stale_partials()
    studio = Studio(store, settings, vocabulary_file=vocabulary_file or store.root / vocabulary.DEFAULT_NAME)

    def j(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                result: Response = await handler(studio, request)
                return result
            except NotFound:
                return _error(404, "not_found")
            except PipelineError as exc:
                return _error(400, _error_key(exc), exc.message, exc.hint)
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                return _error(400, "bad_request")

        return endpoint

    routes = [
        Route("/", index),
        Route("/api/info", j(info)),
        Route("/api/jobs", j(list_jobs), methods=["GET"]),
        Route("/api/jobs", j(create_job), methods=["POST"]),
        Route("/api/clips", j(list_clips)),
        Route("/api/jobs/{job_id}", j(get_job), methods=["GET"]),
        Route("/api/jobs/{job_id}", j(update_job), methods=["PUT"]),
        Route("/api/jobs/{job_id}", j(delete_job), methods=["DELETE"]),
        Route("/api/jobs/{job_id}/duplicate", j(duplicate_job), methods=["POST"]),
        Route("/api/jobs/{job_id}/clip", j(upload_clip), methods=["PUT"]),
        Route("/api/jobs/{job_id}/clip", j(get_clip), methods=["GET"]),
        Route("/api/jobs/{job_id}/clip-ref", j(choose_clip), methods=["POST"]),
        Route("/api/jobs/{job_id}/card", j(make_card), methods=["POST"]),
        Route("/api/jobs/{job_id}/card.png", j(get_card), methods=["GET"]),
        Route("/api/jobs/{job_id}/captions", j(get_captions), methods=["GET"]),
        Route("/api/jobs/{job_id}/captions", j(put_captions), methods=["PUT"]),
        Route("/api/jobs/{job_id}/transcribe", j(start_transcribe), methods=["POST"]),
        Route("/api/jobs/{job_id}/render", j(start_render), methods=["POST"]),
        Route("/api/jobs/{job_id}/cancel", j(cancel_task), methods=["POST"]),
        Route("/api/jobs/{job_id}/preview", j(make_preview), methods=["POST"]),
        Route("/api/jobs/{job_id}/preview.png", j(get_preview), methods=["GET"]),
        Route("/api/vocabulary", j(get_vocabulary), methods=["GET"]),
        Route("/api/vocabulary", j(add_vocabulary), methods=["POST"]),
        Route("/api/vocabulary/remove", j(remove_vocabulary), methods=["POST"]),
        Route("/api/jobs/{job_id}/events", j(events), methods=["GET"]),
        Route("/api/jobs/{job_id}/video", j(get_video), methods=["GET"]),
        *comments_routes.routes(j),
        *clips_routes.routes(j),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes)
    guard = Guard(app, token or secrets.token_urlsafe(24), hosts)
    return guard, studio


# --- helpers ---------------------------------------------------------------------------------


def _error(status: int, key: str, message: str = "", hint: str = "") -> JSONResponse:
    return JSONResponse({"error": {"key": key, "message": message, "hint": hint}}, status_code=status)


def _error_key(exc: PipelineError) -> str:
    """The message key of the page for a pipeline error (the class decides the Finnish headline)."""
    return {"InputError": "input_error", "RenderError": "render_error", "TranscribeError": "transcribe_error",
            "OutputError": "output_error", "ConfigError": "config_error"}.get(exc.__class__.__name__, "error")


async def _json(request: Request) -> Any:
    body = await request.body()
    if len(body) > 8 * 1024 * 1024:
        raise ValueError("too large")
    return json.loads(body or b"{}")


def _job_id(request: Request) -> str:
    return str(request.path_params["job_id"])


# --- routes ----------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


async def info(studio: Studio, request: Request) -> Response:
    c = studio.settings.captions
    return JSONResponse({
        "folder": str(studio.store.root),
        "max_upload_bytes": studio.max_upload_bytes,
        "end_card_default": studio.settings.end_card.mode,  # what a job's end_card "" means
        "duet_layouts": joined.duet_layouts(),  # the layouts this pipeline can make
        "max_clips": cliplist.MAX_CLIPS,
        "sync_min_confidence": studio.settings.sync.min_confidence,  # the page says how sure an offset is
        "join_crossfade": studio.settings.join.crossfade,  # the editor's player joins the clips as render does
        "duet_sound": studio.settings.duet.sound,
        "limits": {"max_chars_per_line": c.max_chars_per_line, "max_cps": c.max_cps, "max_lines": c.max_lines,
                   "min_duration": c.min_duration},
    })


async def list_jobs(studio: Studio, request: Request) -> Response:
    jobs = await run_in_threadpool(studio.store.all)
    return JSONResponse({"jobs": [studio.store.summary(job) for job in jobs]})


async def create_job(studio: Studio, request: Request) -> Response:
    job = await run_in_threadpool(studio.store.create)
    return JSONResponse(studio.store.summary(job), status_code=201)


async def list_clips(studio: Studio, request: Request) -> Response:
    return JSONResponse({"clips": await run_in_threadpool(studio.store.studio_clips)})


async def get_job(studio: Studio, request: Request) -> Response:
    job = await run_in_threadpool(joined.with_durations, studio.store, studio.store.load(_job_id(request)))
    data = studio.store.summary(job)
    task = studio.tasks.get(job.id)
    data["task"] = task.as_event() if task else None
    return JSONResponse(data)


async def update_job(studio: Studio, request: Request) -> Response:
    values = await _json(request)
    if not isinstance(values, dict):
        raise ValueError("expected an object")
    job = await run_in_threadpool(studio.store.update, _job_id(request), values)
    return JSONResponse(studio.store.summary(job))


async def delete_job(studio: Studio, request: Request) -> Response:
    job_id = _job_id(request)
    studio.store.folder(job_id)
    if studio.tasks.busy(job_id):
        return _error(409, "busy")
    await run_in_threadpool(studio.store.delete, job_id)
    return JSONResponse({"deleted": job_id})


async def duplicate_job(studio: Studio, request: Request) -> Response:
    job = await run_in_threadpool(studio.store.duplicate, _job_id(request))
    return JSONResponse(studio.store.summary(job), status_code=201)


async def upload_clip(studio: Studio, request: Request) -> Response:
    """The clip as the raw request body, streamed to a temp file; refused past the size limit
    (413, also while streaming) and when probing finds no readable video."""
    job_id = _job_id(request)
    folder = studio.store.folder(job_id)
    if studio.tasks.busy(job_id):
        return _error(409, "busy")
    limit = studio.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _error(413, "too_large")
    from urllib.parse import unquote

    name = display_name(unquote(request.headers.get("x-file-name", "video.mp4")))
    adding = request.query_params.get("add") == "1"  # one more clip, not in place of the first
    job = studio.store.load(job_id)
    if adding and len(job.clips) >= cliplist.MAX_CLIPS:
        return _error(400, "too_many_clips")
    key = cliplist.new_key()
    # A clip in place of the only one is "clip.<ext>" as before; any other gets its own name, so
    # no upload ever lands on another clip's file.
    target = folder / (("clip" if not adding and len(job.clips) <= 1 else f"clip-{key}") + clip_suffix(name))
    size = 0
    try:
        # Streamed into a temp file beside the target (removed on any failure, and at the next
        # start if the studio is killed), renamed only once the probe found a video.
        with atomic_path(target, mode=FILE_MODE) as tmp:
            with open(tmp, "wb") as fh:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise _TooLarge
                    fh.write(chunk)
            if size == 0:
                raise InputError("empty file")
            duration = await run_in_threadpool(_probe, tmp)
    except _TooLarge:
        return _error(413, "too_large")
    except InputError as exc:
        return _error(400, "not_video", exc.message, exc.hint)
    clip = JobClip(key=key, name=name, file=target.name, duration=duration)
    job = await run_in_threadpool(_put_clip, studio, job_id, clip, adding)
    log.info("studio: job %s got a clip (%d MB)", job_id, size // (1024 * 1024))
    return JSONResponse(studio.store.summary(job))


def _put_clip(studio: Studio, job_id: str, clip: JobClip, adding: bool) -> JobData:
    if adding:
        return studio.store.add_clip(job_id, clip)
    return studio.store.set_clip(job_id, clip_file=clip.file, clip_ref=clip.ref, clip_name=clip.name,
                                 duration=clip.duration)


class _TooLarge(Exception):
    pass


def _probe(path: Path) -> float:
    """The clip's length in seconds; `InputError` unless `path` is a video ffmpeg can read."""
    from pipeline.video import probe

    media = probe(path)
    if media.width <= 0 or media.height <= 0 or media.duration <= 0:
        raise InputError(f"{path.name}: no picture in the file")
    return round(media.duration, 3)


async def choose_clip(studio: Studio, request: Request) -> Response:
    job_id = _job_id(request)
    studio.store.folder(job_id)
    if studio.tasks.busy(job_id):
        return _error(409, "busy")
    values = await _json(request)
    name = values.get("name") if isinstance(values, dict) else None
    if not isinstance(name, str):
        raise ValueError("name")
    path = studio.store.studio_clip(name)
    adding = values.get("add") is True  # one more clip, not in place of the first
    if adding and len(studio.store.load(job_id).clips) >= cliplist.MAX_CLIPS:
        return _error(400, "too_many_clips")
    try:
        duration = await run_in_threadpool(_probe, path)
    except InputError as exc:
        return _error(400, "not_video", exc.message, exc.hint)
    clip = JobClip(key=cliplist.new_key(), name=path.name, ref=path.name, duration=duration)
    job = await run_in_threadpool(_put_clip, studio, job_id, clip, adding)
    return JSONResponse(studio.store.summary(job))


async def get_clip(studio: Studio, request: Request) -> Response:
    job = studio.store.load(_job_id(request))
    path = studio.store.clip_path(job)
    if path is None or not path.is_file():
        raise NotFound(job.id)
    return FileResponse(path)


async def make_card(studio: Studio, request: Request) -> Response:
    """Save the comment fields the page sends, draw the card as render does, say what it masked."""
    job_id = _job_id(request)
    values = await _json(request)
    fields = {k: v for k, v in (values if isinstance(values, dict) else {}).items()
              if k in ("comment", "user", "show_user")}
    job = await run_in_threadpool(studio.store.update, job_id, fields)
    await run_in_threadpool(work.card_preview, studio.store, job, studio.settings)
    notes = await run_in_threadpool(comment_notes, job.comment, studio.settings)
    return JSONResponse({"notes": notes, "version": secrets.token_hex(4)})


def comment_notes(text: str, settings: Settings) -> list[dict[str, Any]]:
    """What the page says about a comment: the kinds of personal data masked on the card and the
    moderation categories (keys the page turns into Finnish; never the values found)."""
    from pipeline.comments import (
        PERSONAL_RESPONSE,
        check_comment,
        clean_display_text,
        mask_options,
        mask_personal_data,
        needs_personal_response,
    )

    options = mask_options(settings.privacy)

    clean = clean_display_text(text, keep_newlines=True)
    notes: list[dict[str, Any]] = []
    masked = mask_personal_data(clean, options=options)
    if masked.findings:
        kinds = list(dict.fromkeys(f.kind for f in masked.findings))
        notes.append({"key": "personal_data", "kinds": kinds})
    flags = [f for f in check_comment(clean, options=options) if f.category != "personal_data"]
    # Self-harm and a disclosure are not "offensive": each has its own note (a personal answer).
    hateful = [f for f in flags if f.category not in PERSONAL_RESPONSE]
    if hateful:
        notes.append({"key": "flagged", "categories": list(dict.fromkeys(f.category for f in hateful))})
    if needs_personal_response(flags):
        found = {f.category for f in flags}
        notes += [{"key": category} for category in PERSONAL_RESPONSE if category in found]
    return notes


async def get_card(studio: Studio, request: Request) -> Response:
    path = studio.store.file(_job_id(request), "card.png")
    if not path.is_file():
        raise NotFound("card.png")
    return FileResponse(path, media_type="image/png")


async def get_captions(studio: Studio, request: Request) -> Response:
    cues = await run_in_threadpool(work.read_cues, studio.store, _job_id(request))
    return JSONResponse({"cues": cues})


async def put_captions(studio: Studio, request: Request) -> Response:
    values = await _json(request)
    job_id = _job_id(request)
    studio.store.folder(job_id)
    if studio.tasks.busy(job_id) and (task := studio.tasks.get(job_id)) and task.kind == "transcribe":
        return _error(409, "busy")
    count = await run_in_threadpool(work.save_cues, studio.store, job_id, values.get("cues"))
    return JSONResponse({"saved": count})


async def start_transcribe(studio: Studio, request: Request) -> Response:
    job = studio.store.load(_job_id(request))
    if studio.store.clip_path(job) is None:
        return _error(400, "no_clip")
    store, settings, terms = studio.store, studio.settings, studio.vocabulary_file

    def run(on_progress: Any) -> None:
        own = terms if terms is not None and terms.is_file() else None
        work.transcribe(store, store.load(job.id), settings, on_progress, vocabulary_file=own)

    task = studio.tasks.start(job.id, "transcribe", run)
    if task is None:
        return _error(409, "busy")
    return JSONResponse(task.as_event(), status_code=202)


async def start_render(studio: Studio, request: Request) -> Response:
    job = studio.store.load(_job_id(request))
    if studio.store.clip_path(job) is None:
        return _error(400, "no_clip")
    store, settings = studio.store, studio.settings

    def run(on_progress: Any) -> None:
        work.render(store, store.load(job.id), settings, on_progress)

    task = studio.tasks.start(job.id, "render", run)
    if task is None:
        return _error(409, "busy")
    return JSONResponse(task.as_event(), status_code=202)


async def events(studio: Studio, request: Request) -> Response:
    """Server-sent events: the job's task state whenever it changes, until it ends."""
    job_id = _job_id(request)
    studio.store.folder(job_id)

    async def stream() -> AsyncIterator[str]:
        sent = -2
        idle = 0.0
        while True:
            task = studio.tasks.get(job_id)
            version = -1 if task is None else task.version
            if version != sent:
                sent = version
                idle = 0.0
                payload = task.as_event() if task else {"state": "idle"}
                yield f"data: {json.dumps(payload)}\n\n"
                if task is None or task.state in ("done", "error", "cancelled"):
                    return
            else:
                idle += 0.2
                if idle >= 15:
                    idle = 0.0
                    yield ": keep-alive\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.2)

    return StreamingResponse(stream(), media_type="text/event-stream")


async def get_video(studio: Studio, request: Request) -> Response:
    job_id = _job_id(request)
    path = studio.store.output(job_id)
    if not path.is_file():
        raise NotFound(job_id)
    if request.query_params.get("download"):
        return FileResponse(path, media_type="video/mp4", filename=download_name(job_id))
    return FileResponse(path, media_type="video/mp4")


async def cancel_task(studio: Studio, request: Request) -> Response:
    """"Peruuta": the job's transcription or render stops at its next progress report."""
    job_id = _job_id(request)
    studio.store.folder(job_id)
    task = studio.tasks.cancel(job_id)
    return JSONResponse({"cancelled": task is not None})


async def make_preview(studio: Studio, request: Request) -> Response:
    """The 9:16 frame at the playhead (`{"at": seconds}`) as the render would burn it."""
    job = studio.store.load(_job_id(request))
    values = await _json(request)
    at = values.get("at", 0.0) if isinstance(values, dict) else 0.0
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at < 1e6:
        raise ValueError("at")
    if studio.store.clip_path(job) is None:
        return _error(400, "no_clip")

    def run() -> None:
        with studio.preview_lock:  # one ffmpeg for previews at a time; the page asks for the latest
            work.preview_still(studio.store, studio.store.load(job.id), studio.settings, float(at))

    await run_in_threadpool(run)
    return JSONResponse({"version": secrets.token_hex(4), "at": at})


async def get_preview(studio: Studio, request: Request) -> Response:
    path = studio.store.file(_job_id(request), "preview.png")
    if not path.is_file():
        raise NotFound("preview.png")
    return FileResponse(path, media_type="image/png")


def _vocabulary_file(studio: Studio) -> Path:
    assert studio.vocabulary_file is not None  # create_app sets the default
    return studio.vocabulary_file


async def get_vocabulary(studio: Studio, request: Request) -> Response:
    path = _vocabulary_file(studio)
    terms = await run_in_threadpool(vocabulary.read_terms, path)
    return JSONResponse({"terms": terms, "file": str(path)})


async def add_vocabulary(studio: Studio, request: Request) -> Response:
    """"Opeta sana": the corrected term goes to the person's vocabulary file."""
    return await _change_vocabulary(studio, request, vocabulary.add_term, "added to")


async def remove_vocabulary(studio: Studio, request: Request) -> Response:
    return await _change_vocabulary(studio, request, vocabulary.remove_term, "removed from")


async def _change_vocabulary(studio: Studio, request: Request, change: Callable[[Path, str], list[str]],
                             done: str) -> Response:
    values = await _json(request)
    term = values.get("term") if isinstance(values, dict) else None
    if not isinstance(term, str):
        raise ValueError("term")
    path = _vocabulary_file(studio)
    terms = await run_in_threadpool(change, path, term)
    log.info("studio: a term was %s the vocabulary (%d terms)", done, len(terms))  # never the term
    return JSONResponse({"terms": terms, "file": str(path)})
