"""`make bench` section "studio": what the page adds on top of the pipeline.

1. Start to first page: `sossut studio --no-browser` launched until the page (with its token)
   answers 200, as a person's browser would load it.
2. Card preview round trip, without the page's debounce: POST the comment, GET the card PNG.
   Also the preview still (the 9:16 frame at a time, one ffmpeg frame) round trip.
3. "Tee video" to playable video: POST render, follow the server-sent events to "done", GET the
   video's first bytes; against `sossut render` of the same job (same clip, comment and look, no
   captions) from a shell. The studio may add at most 5 %.
Each timing is the best of `--repeat` runs.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.bench import ROOT, make_test_clip, measure, sossut

COMMENT = "Voiko lastensuojeluilmoituksen tehdä nimettömänä? 🤔"


class Client:
    """The page's side of the studio's API: the token cookie and a same-origin Origin header."""

    def __init__(self, url: str) -> None:
        self.origin = re.sub(r"/\?token=.*$", "", url)
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.opener.open(url).read()  # sets the cookie, follows the redirect to the page

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> bytes:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.origin + path, data=data, method=method,
                                         headers={"Origin": self.origin, "Content-Type": "application/json"})
        with self.opener.open(request) as response:
            return bytes(response.read())

    def json(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self.call(method, path, body))

    def wait_task(self, job_id: str) -> dict[str, Any]:
        """Follow the job's events until its task ends; the last event."""
        request = urllib.request.Request(f"{self.origin}/api/jobs/{job_id}/events")
        with self.opener.open(request) as stream:
            for line in stream:
                if line.startswith(b"data:"):
                    event: dict[str, Any] = json.loads(line[5:])
                    if event.get("state") in ("done", "error", "cancelled", "idle"):
                        return event
        raise SystemExit("the event stream ended before the task")


def start_studio(folder: Path) -> tuple[subprocess.Popen[str], str, float]:
    """Launch the studio; (process, URL with token, seconds until the page answered)."""
    started = time.perf_counter()
    process = subprocess.Popen(sossut("studio", "--no-browser", "--folder", str(folder)), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    match = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", process.stdout.readline())
    if not match:
        process.kill()
        raise SystemExit("the studio did not start")
    Client(match.group(1))  # the page itself, with the token
    return process, match.group(1), time.perf_counter() - started


def stop_studio(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def bench_studio(work: Path, repeat: int) -> None:
    print(f"## studio (best of {repeat})")
    starts = []
    for i in range(repeat + 1):  # the first launch warms the disk cache of the imports
        process, _, took = start_studio(work / f"studio-start-{i}")
        stop_studio(process)
        starts.append(took)
    print(f"start to first page                   {min(starts[1:]) * 1000:7.0f} ms")

    clip = make_test_clip(work / "clip30.mp4", 30)
    folder = work / "studio"
    process, url, _ = start_studio(folder)
    try:
        client = Client(url)
        job = client.json("POST", "/api/jobs")["id"]
        client.call("PUT", f"/api/jobs/{job}/clip", raw=clip.read_bytes())
        cards, stills = [], []
        for i in range(max(repeat, 3)):
            t0 = time.perf_counter()
            client.json("POST", f"/api/jobs/{job}/card", {"comment": f"{COMMENT} {i}", "user": "", "show_user": False})
            client.call("GET", f"/api/jobs/{job}/card.png")
            cards.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            client.json("POST", f"/api/jobs/{job}/preview", {"at": 5.0 + i})
            client.call("GET", f"/api/jobs/{job}/preview.png")
            stills.append(time.perf_counter() - t0)
        client.json("PUT", f"/api/jobs/{job}", {"comment": COMMENT})
        print(f"card preview round trip (no debounce) {min(cards) * 1000:7.0f} ms")
        print(f"preview still round trip (1 frame)    {min(stills) * 1000:7.0f} ms")

        renders = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.json("POST", f"/api/jobs/{job}/render")
            event = client.wait_task(job)
            if event.get("state") != "done":
                raise SystemExit(f"studio render failed: {event}")
            with client.opener.open(urllib.request.Request(f"{client.origin}/api/jobs/{job}/video",
                                                           headers={"Range": "bytes=0-65535"})) as video:
                video.read()
            renders.append(time.perf_counter() - t0)
        job_dir = folder / "jobs" / job
        cli_argv = sossut("render", str(clip), "-o", str(work / "cli.mp4"), "--comment", COMMENT,
                          "--captions", "none", "--config", str(job_dir / "render.toml"))
        cli_s = min(measure(cli_argv, cwd=ROOT)[0] for _ in range(repeat))
    finally:
        stop_studio(process)
    studio_s = min(renders)
    print(f"'Tee video' to playable (30 s 1080p)  {studio_s:7.2f} s")
    print(f"sossut render, same job               {cli_s:7.2f} s")
    print(f"ratio studio/CLI                      {studio_s / cli_s:7.2f}     (target <= 1.05)")
    print()


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sossut-bench-") as tmp:
        bench_studio(Path(tmp), int(sys.argv[1]) if len(sys.argv) > 1 else 2)
