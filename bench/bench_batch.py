"""`make bench` section "batch": `sossut batch` throughput, memory and the shared transcription.

1. 8 clips (5 s 1280x720 testsrc2 + sine), captions none, with --jobs 1 and --jobs 2: wall time
   and peak RSS of the whole process tree.
2. Memory over a long batch: 24 rows with captions auto in one worker; the worker's RSS after
   the first rows vs the last rows (flat = no leak per row).
3. 6 spans of one 5-minute speech recording (the Finnish fixtures looped under testsrc2) vs the
   same 6 spans as 6 separate clips, captions auto on both, fresh transcript cache each run:
   the recording is transcribed once (1 cache entry), the separate clips 6 times.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from bench.bench import ROOT, best_of, make_test_clip, measure
from pipeline.video.ffmpeg import ffmpeg_path

SPEECH = ROOT / "tests" / "fixtures" / "speech"
RECORDING_SECONDS = 300
SPAN_STARTS = (10.0, 55.0, 100.0, 145.0, 190.0, 235.0)
SPAN_SECONDS = 8.0


def _batch_argv(*args: str) -> list[str]:
    """`python -m pipeline batch ...`."""
    return [sys.executable, "-m", "pipeline", "batch", *args]


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _manifest(path: Path, rows: list[str]) -> Path:
    path.write_text("\ufeffclip;comment;start;end;output;captions\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _run(manifest: Path, out: Path, *args: str, cache: Path | None = None) -> tuple[float, float]:
    shutil.rmtree(out, ignore_errors=True)
    env = {"SOSSUT_CACHE_DIR": str(cache)} if cache else None
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
    return measure(_batch_argv(str(manifest), "--out-dir", str(out), "--quiet", *args), cwd=ROOT, env=env)


def _worker_rss_over_time(argv: list[str]) -> tuple[float, list[float]]:
    """Run a batch; sample the RSS (MB) of its Python worker processes every 0.1 s."""
    samples: list[float] = []
    start = time.perf_counter()
    proc = psutil.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                workers = [p for p in proc.children(recursive=True) if "python" in p.name().lower()]
                if workers:
                    samples.append(sum(p.memory_info().rss for p in workers) / 1e6)
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    done.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"batch failed: {err.decode()[-2000:]}")
    return time.perf_counter() - start, samples


def _speech_recording(work: Path) -> Path:
    """5 minutes of Finnish speech (the fixtures with 1.5 s pauses, looped) under testsrc2."""
    flacs = sorted(p for p in SPEECH.glob("*.flac") if p.stem != "hiljaisuus")
    if not flacs:
        raise FileNotFoundError("no speech fixtures")
    inputs: list[str] = []
    chain = ""
    for i, flac in enumerate(flacs):
        inputs += ["-i", str(flac)]
        chain += f"[{i}:a]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=1.5[a{i}];"
    chain += "".join(f"[a{i}]" for i in range(len(flacs))) + f"concat=n={len(flacs)}:v=0:a=1[a]"
    speech = work / "speech.wav"
    _ffmpeg(*inputs, "-filter_complex", chain, "-map", "[a]", str(speech))
    recording = work / "recording.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=640x360:r=25:d={RECORDING_SECONDS}", "-stream_loop", "-1",
            "-i", str(speech), "-map", "0:v", "-map", "1:a", "-t", str(RECORDING_SECONDS), "-c:v", "libx264",
            "-preset", "ultrafast", "-c:a", "aac", str(recording))
    return recording


def bench_batch(work: Path, repeat: int) -> None:
    work = work / "batch"
    work.mkdir(exist_ok=True)
    cores = psutil.cpu_count() or 1

    clips = [make_test_clip(work / f"clip{i}.mp4", 5, size="1280x720") for i in range(8)]
    eight = _manifest(work / "eight.csv", [f"{c.name};Kysymys {i};;;;none" for i, c in enumerate(clips)])
    _run(eight, work / "warm", "--jobs", "1")  # imports and page cache
    print(f"## batch: 8 clips of 5 s 1280x720 -> 1080x1920, captions none (best of {repeat}; {cores} cores)")
    for jobs in (1, 2):
        seconds, mb = best_of(repeat, lambda jobs=jobs: _run(eight, work / "out8", "--jobs", str(jobs)))
        print(f"--jobs {jobs}                              {seconds:7.2f} s   {seconds / 8:5.2f} s/video   "
              f"peak RSS {mb:7.0f} MB")
    print()

    small = make_test_clip(work / "small.mp4", 2, size="320x240")
    long = _manifest(work / "long.csv", [f"{small.name};Rivi {i};;;r{i:02d}.mp4;auto" for i in range(24)])
    seconds, samples = _worker_rss_over_time(_batch_argv(str(long), "--out-dir", str(work / "long"), "--quiet",
                                                         "--jobs", "1"))
    if len(samples) >= 8:
        quarter = len(samples) // 4
        first, last = max(samples[:quarter]), max(samples[-quarter:])
        print(f"## batch memory: 24 rows, captions auto, one worker ({seconds:.1f} s)")
        print(f"worker RSS: first quarter max {first:6.0f} MB, last quarter max {last:6.0f} MB "
              f"({last - first:+.0f} MB)")
        print()

    try:
        recording = _speech_recording(work)
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(f"## batch spans: skipped ({exc})\n")
        return
    span_rows, clip_rows = [], []
    for i, start in enumerate(SPAN_STARTS):
        piece = work / f"piece{i}.mp4"
        _ffmpeg("-ss", f"{start}", "-i", str(recording), "-t", f"{SPAN_SECONDS}", "-c:v", "libx264",
                "-preset", "ultrafast", "-c:a", "aac", str(piece))
        span_rows.append(f"{recording.name};Vastaus {i};{start};{start + SPAN_SECONDS};span{i}.mp4;auto")
        clip_rows.append(f"{piece.name};Vastaus {i};;;clip{i}.mp4;auto")
    spans = _manifest(work / "spans.csv", span_rows)
    separate = _manifest(work / "separate.csv", clip_rows)
    cache = work / "cache"
    print(f"## batch spans: 6 x {SPAN_SECONDS:.0f} s answers, captions auto, Whisper base, --jobs 1, "
          f"fresh transcript cache (best of {repeat})")
    for label, manifest in ((f"6 spans of one {RECORDING_SECONDS // 60}-min recording", spans),
                            ("6 separate clips", separate)):
        seconds, mb = best_of(repeat, lambda manifest=manifest: _run(manifest, work / "outs", "--jobs", "1", cache=cache))
        transcripts = len(list((cache / "transcripts").glob("*.json")))
        print(f"{label:<38} {seconds:7.2f} s   peak RSS {mb:7.0f} MB   transcriptions {transcripts}")
    print()
