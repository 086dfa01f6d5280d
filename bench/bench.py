"""`make bench`: speed and memory against a baseline measured in the same run (not a test).

Sections (all by default; `--only render,transcribe,...` to pick):
  render      bare ffmpeg scale+pad+encode of a 30 s 1920x1080 clip (the floor) vs
              `sossut render --captions none` (blur reframe + card), same preset/crf; ratio, peak RSS.
  transcribe  Whisper base int8, 2 threads, on ~60 s of Finnish speech: real-time factor; and
              `sossut render --captions auto` of a 60 s 1080p clip as a fraction of its length,
              and its peak RSS (target <= 600 MB: the model is gone before the encode).
  batch       8 short clips with --jobs 1 and --jobs 2; 6 spans of one 5-minute recording vs
              the same spans as 6 separate clips.
  sync        `estimate_offset` on two 10-minute 16 kHz tracks (a call pair): seconds, error.
  duet        bare ffmpeg scale+crop+vstack of two 30 s phone clips (the floor) vs `sossut duet
              --captions none` with --offset and with the offset found from the sound; ratio,
              peak RSS. Prints the sync timing too (as `sync`), once.
  studio      `sossut studio`: start to first page, card and preview-still round trips, and
              "Tee video" to playable video against `sossut render` of the same job (ratio).
  hdr         30 s 10-bit HLG HEVC clips (1080x1920 and 2160x3840): `sossut render` (blur, crop)
              against the bare SDR floor of the same clip; `--before DIR` times an older checkout too
              (also for startup).
              Not in the default list (it encodes a 4K clip): `--only hdr`.
Each timing is the best of `--repeat` runs (default 2); peak RSS is the whole process tree.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_settings  # noqa: E402
from pipeline.video.ffmpeg import ffmpeg_path  # noqa: E402

SETTINGS = load_settings()


def measure(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command; return (seconds, peak RSS of its whole process tree in MB)."""
    peak = 0.0
    start = time.perf_counter()
    proc = psutil.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        env={**os.environ, **(env or {})})
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                procs = [proc] + proc.children(recursive=True)
                rss = sum(p.memory_info().rss for p in procs if p.is_running())
                peak = max(peak, rss / 1e6)
            except psutil.Error:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(argv)}\n{err.decode()[-2000:]}")
    return elapsed, peak


def best_of(repeat: int, run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    results = [run() for _ in range(repeat)]
    return min(r[0] for r in results), max(r[1] for r in results)


def make_test_clip(path: Path, seconds: int, size: str = "1920x1080", fps: int = 30) -> Path:
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=s={size}:r={fps}:d={seconds}",
         "-f", "lavfi", "-i", f"sine=f=300:d={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )
    return path


def sossut(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def bench_render(work: Path, repeat: int) -> None:
    clip = make_test_clip(work / "clip30.mp4", 30)
    enc = SETTINGS.encoder
    floor_argv = [
        ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip),
        "-vf", "scale=1080:1920:force_original_aspect_ratio=decrease,pad=1080:1920:(ow-iw)/2:(oh-ih)/2",
        "-c:v", enc.codec, "-preset", enc.preset, "-crf", str(enc.crf), "-profile:v", enc.profile,
        "-pix_fmt", enc.pix_fmt, "-c:a", enc.audio_codec, "-b:a", enc.audio_bitrate, "-ar", str(enc.audio_rate),
        "-movflags", "+faststart", str(work / "floor.mp4"),
    ]
    ours_argv = sossut("render", str(clip), "-o", str(work / "ours.mp4"), "--captions", "none",
                       "--reframe", "blur", "--comment",
                       "Voiko lastensuojeluilmoituksen tehdä nimettömänä? 🤔", "--user", "testi")
    # warm caches once (fonts, Python imports) so the first timed run is not penalised
    measure(ours_argv, cwd=ROOT)
    floor_s, floor_mb = best_of(repeat, lambda: measure(floor_argv))
    ours_s, ours_mb = best_of(repeat, lambda: measure(ours_argv, cwd=ROOT))
    print("## render (30 s 1920x1080 -> 1080x1920, "
          f"{enc.codec} preset={enc.preset} crf={enc.crf}, best of {repeat})")
    print(f"floor: ffmpeg scale+pad+encode        {floor_s:7.2f} s   peak RSS {floor_mb:7.0f} MB")
    print(f"sossut render --captions none (blur)  {ours_s:7.2f} s   peak RSS {ours_mb:7.0f} MB")
    print(f"ratio sossut/floor                    {ours_s / floor_s:7.2f}     (target <= 1.3)")
    print(f"card draw (Finnish + emoji, warm)     {card_ms():7.1f} ms")
    print()


def card_ms(rounds: int = 5) -> float:
    """Milliseconds to draw a 3-line card with emoji once fonts are loaded (best of `rounds`)."""
    from pipeline.card.draw import draw_card
    from pipeline.types import CardContent

    content = CardContent("Mitä tapahtuu lastensuojeluilmoituksen jälkeen? 🤔 " * 3, SETTINGS.card.anonymous_header)
    draw_card(content, SETTINGS.card)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        draw_card(content, SETTINGS.card)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="render,transcribe,batch,sync,duet,studio")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout before a change: the hdr and startup sections time it too")
    args = parser.parse_args()
    sections = set(args.only.split(","))
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
          f"ffmpeg {Path(ffmpeg_path()).name}\n")
    with tempfile.TemporaryDirectory(prefix="sossut-bench-") as tmp:
        work = Path(tmp)
        if "render" in sections:
            bench_render(work, args.repeat)
        if "transcribe" in sections:
            from bench.bench_transcribe import bench_transcribe

            bench_transcribe(work, args.repeat)
        if "batch" in sections:
            from bench.bench_batch import bench_batch

            bench_batch(work, args.repeat)
        if "duet" in sections:
            from bench.bench_duet import bench_duet

            bench_duet(work, args.repeat)
        if "sync" in sections or "duet" in sections:  # the duet benchmark includes it
            from bench.bench_sync import bench_sync

            bench_sync(work, args.repeat)
        if "studio" in sections:
            from bench.bench_studio import bench_studio

            bench_studio(work, args.repeat)
        if "hdr" in sections:
            from bench.bench_hdr import bench_hdr

            bench_hdr(work, args.repeat, args.before)
        if sections & {"startup", "blur", "throughput"}:
            from bench import bench_speed

            if "startup" in sections:
                bench_speed.bench_startup(work, args.repeat, args.before)
            if "blur" in sections:
                bench_speed.bench_blur(work, args.repeat)
            if "throughput" in sections:
                bench_speed.bench_throughput(work, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
