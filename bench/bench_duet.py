"""`make bench` section "duet": `sossut duet` of two 30 s phone clips against the bare ffmpeg floor.

The pair: A 1080x1920 portrait and B 1920x1080 landscape (testsrc2, 30 fps), 30 s each, both
hearing one room (pink noise plus a tone); B started OFFSET seconds after A. The floor is one
bare ffmpeg run doing the same picture work on the same stretch (A from OFFSET s, B from 0, for
the time both cover): each scaled and cropped to 1080x960, stacked, A's sound, the same
codec/preset/crf/profile/pix_fmt/audio as the render floor. Against it: `sossut duet --offset`
(card on, captions none) and `sossut duet` finding the offset from the sound (sync included),
and `sync_clips` alone on the pair (the sync's own share, in this process).
Each timing is the best of `--repeat` interleaved runs; peak RSS is the whole process tree.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.bench import ROOT, SETTINGS, measure
from pipeline.video.ffmpeg import ffmpeg_path

SECONDS = 30
OFFSET = 1.25  # B started this long after A
COMMENT = "Mitä tapahtuu, kun sossu saa lastensuojeluilmoituksen? 🤔"


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_pair(work: Path) -> tuple[Path, Path]:
    """A (portrait) and B (landscape), 30 s each, sharing one room's sound; B starts OFFSET s later."""
    room = (f"anoisesrc=d={SECONDS + OFFSET + 1}:c=pink:r=48000:seed=7:a=0.2[n];"
            f"sine=f=220:d={SECONDS + OFFSET + 1}:sample_rate=48000[t];[n][t]amix=inputs=2")
    pair = []
    for name, size, start in (("a.mp4", "1080x1920", 0.0), ("b.mp4", "1920x1080", OFFSET)):
        path = work / name
        _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={size}:r=30:d={SECONDS}",
                "-f", "lavfi", "-i", f"{room},atrim={start}:{start + SECONDS},asetpts=PTS-STARTPTS",
                "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-c:a", "aac", "-shortest", str(path))
        pair.append(path)
    return pair[0], pair[1]


def floor_argv(a: Path, b: Path, out: Path) -> list[str]:
    """Bare ffmpeg: the stretch both cover, each half scaled + cropped to 1080x960, stacked, A's sound."""
    enc = SETTINGS.encoder
    both = SECONDS - OFFSET
    half = "scale=1080:960:force_original_aspect_ratio=increase,crop=1080:960,setsar=1"
    return [
        ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y",
        "-ss", f"{OFFSET}", "-t", f"{both}", "-i", str(a), "-t", f"{both}", "-i", str(b),
        "-filter_complex", f"[0:v]{half}[top];[1:v]{half}[bottom];[top][bottom]vstack=inputs=2[v]",
        "-map", "[v]", "-map", "0:a",
        "-c:v", enc.codec, "-preset", enc.preset, "-crf", str(enc.crf), "-profile:v", enc.profile,
        "-pix_fmt", enc.pix_fmt, "-c:a", enc.audio_codec, "-b:a", enc.audio_bitrate, "-ar", str(enc.audio_rate),
        "-movflags", "+faststart", str(out),
    ]


def duet_argv(a: Path, b: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", "duet", str(a), str(b), "-o", str(out), "--comment", COMMENT,
            "--user", "testi", "--captions", "none", *extra]


def bench_duet(work: Path, repeat: int) -> None:
    a, b = make_pair(work)
    floor = floor_argv(a, b, work / "duet_floor.mp4")
    given = duet_argv(a, b, work / "duet_given.mp4", "--offset", f"{OFFSET}")
    synced = duet_argv(a, b, work / "duet_synced.mp4")
    measure(given, cwd=ROOT)  # warm caches (fonts, imports) so the first timed run is not penalised
    # Interleaved (floor, given, synced, floor, ...) so a burst of load on a shared machine
    # falls on all three alike; best time and highest peak of each.
    runs: dict[str, list[tuple[float, float]]] = {"floor": [], "given": [], "synced": []}
    for _ in range(repeat):
        runs["floor"].append(measure(floor))
        runs["given"].append(measure(given, cwd=ROOT))
        runs["synced"].append(measure(synced, cwd=ROOT))
    (floor_s, floor_mb), (given_s, given_mb), (synced_s, synced_mb) = (
        (min(t for t, _ in r), max(mb for _, mb in r)) for r in runs.values())
    enc = SETTINGS.encoder
    print(f"## duet (2 x {SECONDS} s: 1080x1920 + 1920x1080, B {OFFSET} s later -> {SECONDS - OFFSET:g} s "
          f"1080x1920, {enc.codec} preset={enc.preset} crf={enc.crf}, best of {repeat})")
    print(f"floor: ffmpeg scale+crop x2, vstack, encode   {floor_s:7.2f} s   peak RSS {floor_mb:7.0f} MB")
    print(f"sossut duet --offset (card, captions none)    {given_s:7.2f} s   peak RSS {given_mb:7.0f} MB   "
          f"ratio {given_s / floor_s:5.2f}")
    print(f"sossut duet, offset from the sound (sync)     {synced_s:7.2f} s   peak RSS {synced_mb:7.0f} MB   "
          f"ratio {synced_s / floor_s:5.2f}")
    sync_s, found = _sync_seconds(a, b, repeat)
    print(f"sync_clips alone (decode both + estimate)      {sync_s:7.2f} s   offset {found:.3f} s (true {OFFSET})")
    print()


def _sync_seconds(a: Path, b: Path, repeat: int) -> tuple[float, float]:
    """The sync's own share, timed in this process (the difference of two noisy renders is not it)."""
    from pipeline.video import sync_clips

    times, offset = [], 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        offset = sync_clips(a, b, SETTINGS.sync).offset_s
        times.append(time.perf_counter() - start)
    return min(times), offset
