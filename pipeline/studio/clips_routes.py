"""The studio's routes for a job's several clips: order, cut, removal, a clip's file and sound
envelope, and the duet's sync (a task with progress and cancel, as transcribe and render).

In: requests naming a job and a clip key the store made (`cliplist`); changes need the guard's
same-origin check like every other change. Out: the job's summary (JSON), a clip file, a
waveform (JSON). A change is refused (409) while the job's task runs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from pipeline.studio import cliplist, joined, work
from pipeline.studio.jobs import JobData, NotFound

if TYPE_CHECKING:
    from pipeline.studio.app import Studio

Handler = Callable[["Studio", Request], Awaitable[Response]]
_KEY = re.compile(r"^[0-9a-f]{8}$")


def routes(wrap: Callable[[Handler], Any]) -> list[Route]:
    """The routes, each handler wrapped as the app wraps its own (errors to JSON)."""
    return [
        Route("/api/jobs/{job_id}/clips/order", wrap(reorder), methods=["POST"]),
        Route("/api/jobs/{job_id}/clips/{key}", wrap(get_clip), methods=["GET"]),
        Route("/api/jobs/{job_id}/clips/{key}", wrap(trim), methods=["PUT"]),
        Route("/api/jobs/{job_id}/clips/{key}", wrap(remove), methods=["DELETE"]),
        Route("/api/jobs/{job_id}/clips/{key}/waveform", wrap(waveform), methods=["GET"]),
        Route("/api/jobs/{job_id}/sync", wrap(start_sync), methods=["POST"]),
        Route("/api/jobs/{job_id}/duet/shots", wrap(shots), methods=["GET"]),
    ]


def _busy(studio: Studio, job_id: str) -> Response | None:
    studio.store.folder(job_id)
    if studio.tasks.busy(job_id):
        return JSONResponse({"error": {"key": "busy", "message": "", "hint": ""}}, status_code=409)
    return None


def _ids(request: Request) -> tuple[str, str]:
    key = str(request.path_params.get("key", ""))
    if not _KEY.match(key):
        raise NotFound(key)
    return str(request.path_params["job_id"]), key


def _clip(job: JobData, key: str) -> cliplist.JobClip:
    try:
        return cliplist.find(job, key)
    except KeyError:
        raise NotFound(key) from None


async def _body(request: Request) -> dict[str, Any]:
    import json

    body = await request.body()
    if len(body) > 64 * 1024:
        raise ValueError("too large")
    values = json.loads(body or b"{}")
    if not isinstance(values, dict):
        raise ValueError("expected an object")
    return values


async def reorder(studio: Studio, request: Request) -> Response:
    """`{"order": [key, ...]}`: every clip of the job once, in the new order."""
    job_id = str(request.path_params["job_id"])
    if (refused := _busy(studio, job_id)) is not None:
        return refused
    order = (await _body(request)).get("order")
    job = await run_in_threadpool(studio.store.change_clips, job_id, lambda j: cliplist.reorder(j, order))
    return JSONResponse(studio.store.summary(job))


async def trim(studio: Studio, request: Request) -> Response:
    """`{"start": s, "end": s | null}`: the stretch of the clip used."""
    job_id, key = _ids(request)
    if (refused := _busy(studio, job_id)) is not None:
        return refused
    values = await _body(request)
    _clip(studio.store.load(job_id), key)
    job = await run_in_threadpool(studio.store.change_clips, job_id,
                                  lambda j: cliplist.trim(j, key, values.get("start", 0.0), values.get("end")))
    return JSONResponse(studio.store.summary(job))


async def remove(studio: Studio, request: Request) -> Response:
    job_id, key = _ids(request)
    if (refused := _busy(studio, job_id)) is not None:
        return refused
    _clip(studio.store.load(job_id), key)
    job = await run_in_threadpool(studio.store.remove_clip, job_id, key)
    studio.store.file(job_id, f"wave-{key}.json").unlink(missing_ok=True)
    return JSONResponse(studio.store.summary(job))


async def get_clip(studio: Studio, request: Request) -> Response:
    job_id, key = _ids(request)
    job = studio.store.load(job_id)
    path = studio.store.path_of(job, _clip(job, key))
    if path is None or not path.is_file():
        raise NotFound(key)
    return FileResponse(path)


async def waveform(studio: Studio, request: Request) -> Response:
    """The clip's sound envelope: `{"duration", "rate", "peaks"}` (`joined.waveform`)."""
    job_id, key = _ids(request)
    job = studio.store.load(job_id)
    data = await run_in_threadpool(joined.waveform, studio.store, job, _clip(job, key))
    return JSONResponse({k: data[k] for k in ("duration", "rate", "peaks")})


async def shots(studio: Studio, request: Request) -> Response:
    """Who is shown and heard when in the duet, on its clock (`joined.duet_shots`):
    `{"shots": [{"start", "end", "speaker"}], "follows_speaker"}`; `follows_speaker` false: the
    sound is one recording's throughout (`[duet] sound`), the shots then say only who is shown."""
    job = studio.store.load(str(request.path_params["job_id"]))
    if not cliplist.is_duet(job):
        return JSONResponse({"error": {"key": "duet_two_clips", "message": "", "hint": ""}}, status_code=400)
    settings = work.job_settings(studio.settings, job)
    found = await run_in_threadpool(joined.duet_shots, studio.store, job, settings)
    return JSONResponse({"shots": [{"start": s.start, "end": s.end, "speaker": s.speaker} for s in found],
                         "follows_speaker": settings.duet.sound == "speaker"})


async def start_sync(studio: Studio, request: Request) -> Response:
    """Find the duet's offset from the two clips' sound, as a task (progress, cancel)."""
    job = studio.store.load(str(request.path_params["job_id"]))
    if len(job.clips) != 2:
        return JSONResponse({"error": {"key": "duet_two_clips", "message": "", "hint": ""}}, status_code=400)
    store, settings = studio.store, studio.settings

    def run(on_progress: Callable[[float], None]) -> None:
        joined.sync(store, store.load(job.id), settings, on_progress)

    task = studio.tasks.start(job.id, "sync", run)
    if task is None:
        return JSONResponse({"error": {"key": "busy", "message": "", "hint": ""}}, status_code=409)
    return JSONResponse(task.as_event(), status_code=202)
