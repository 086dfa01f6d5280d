"""`make bench` sections "startup", "blur" and "throughput" (issue 14): how close a render comes to
the bare encode it cannot beat.

startup     a 10 s 1920x1080 clip with an SRT caption file: seconds from starting `sossut render`
            to ffmpeg's encode being exec'd (a stand-in ffmpeg records the moment and stops), and
            the Python process's CPU seconds until then; best of `--repeat` (x3).
blur        `sossut render` (blur, card, SRT captions) of 30 s and 10 s 1920x1080 clips against the
            floor (bare ffmpeg scale+pad+encode at the same preset/crf), at preset veryfast (the
            default) and medium; `blur_style = "wash"` and `--reframe fit` for comparison.
throughput  8 clips of 10 s 1920x1080 in `sossut batch` with --jobs chosen automatically, against
            the 8 floors run one after the other.

`--before DIR` also runs the startup section with `PYTHONPATH=DIR` (a checkout of an older
version), for before/after figures on the same machine in the same run.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench import ROOT, SETTINGS, best_of, make_test_clip, measure, sossut
from pipeline.video.ffmpeg import ffmpeg_path

COMMENT = "Voiko lastensuojeluilmoituksen tehdä nimettömänä? 🤔"
LINES = ("Hei kaikki! Tänään puhutaan lastensuojelusta.", "Ilmoituksen voi tehdä nimettömänä, älä pelkää.",
         "Kysy rohkeasti, me vastataan.", "Sosiaalityöntekijä kuuntelee ja auttaa perhettä.")


def caption_file(path: Path, seconds: float) -> Path:
    """An SRT with a cue every 3 s over the whole clip."""
    def clock(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    cues = [f"{i + 1}\n{clock(i * 3 + 0.2)} --> {clock(i * 3 + 2.8)}\n{LINES[i % len(LINES)]}\n"
            for i in range(int(seconds // 3))]
    path.write_text("\n".join(cues), encoding="utf-8")
    return path


def floor_argv(clip: Path, out: Path, preset: str) -> list[str]:
    enc = SETTINGS.encoder
    return [
        ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip),
        "-vf", "scale=1080:1920:force_original_aspect_ratio=decrease,pad=1080:1920:(ow-iw)/2:(oh-ih)/2",
        "-c:v", enc.codec, "-preset", preset, "-crf", str(enc.crf), "-profile:v", enc.profile,
        "-pix_fmt", enc.pix_fmt, "-c:a", enc.audio_codec, "-b:a", enc.audio_bitrate, "-ar", str(enc.audio_rate),
        "-movflags", "+faststart", str(out),
    ]


def _stand_in_ffmpeg(work: Path) -> Path:
    """An `sh` ffmpeg that records when the encode starts (wall clock and the parent's CPU time
    from /proc) and then stops; other ffmpeg runs (the loudness meter) go to the real one."""
    script = work / "ffmpeg-start.sh"
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in *libx264*)\n'
        '  echo "$(date +%s.%N) $(cut -d" " -f1 /proc/$PPID/schedstat 2>/dev/null || echo 0)" > "$SOSSUT_START_FILE"\n'
        "  exit 1;;\nesac\n"
        f'exec "{ffmpeg_path()}" "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _time_to_ffmpeg(work: Path, clip: Path, captions: Path, pythonpath: Path, repeat: int) -> tuple[float, float]:
    script = _stand_in_ffmpeg(work)
    marker = work / "started"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: .pyc cached
    env.update(PYTHONPATH=str(pythonpath), SOSSUT_FFMPEG=str(script), SOSSUT_START_FILE=str(marker))
    argv = sossut("render", str(clip), "-o", str(work / "start.mp4"), "--comment", COMMENT, "--captions", str(captions))
    walls, cpus = [], []
    for _ in range(repeat + 1):  # the first run warms the page cache and writes .pyc files
        marker.unlink(missing_ok=True)
        started = time.time()
        subprocess.run(argv, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not marker.exists():
            raise SystemExit(f"startup: ffmpeg was never started by {' '.join(argv)}")
        wall, cpu_ns = marker.read_text().split()
        walls.append(float(wall) - started)
        cpus.append(int(cpu_ns) / 1e9)
    return min(walls[1:]), min(cpus[1:])


def bench_startup(work: Path, repeat: int, compare: Path | None = None) -> None:
    work = work / "startup"
    work.mkdir(exist_ok=True)
    clip = make_test_clip(work / "clip10.mp4", 10)
    captions = caption_file(work / "clip10.srt", 10)
    print(f"## startup: `sossut render` 10 s 1920x1080 + SRT, command start -> ffmpeg exec'd "
          f"(best of {max(3, repeat)})")
    rows = [("this tree", ROOT)] + ([("--before " + str(compare), compare)] if compare else [])
    for label, tree in rows:
        wall, cpu = _time_to_ffmpeg(work, clip, captions, tree, max(3, repeat))
        print(f"{label:<38} {wall:6.3f} s   (Python CPU {cpu:5.3f} s)   target <= 0.35 s")
    print()


def bench_blur(work: Path, repeat: int) -> None:
    work = work / "blur"
    work.mkdir(exist_ok=True)
    configs = {}
    for preset in ("veryfast", "medium"):
        for style in ("soft", "wash"):
            path = work / f"{preset}-{style}.toml"
            path.write_text(f'[encoder]\npreset = "{preset}"\n[reframe]\nblur_style = "{style}"\n')
            configs[preset, style] = path
    print(f"## blur: `sossut render` (card + SRT captions) vs the floor, 1920x1080 -> 1080x1920 (best of {repeat})")
    for seconds, preset in ((30, "veryfast"), (10, "veryfast"), (30, "medium")):
        clip = make_test_clip(work / f"clip{seconds}.mp4", seconds)
        captions = caption_file(work / f"clip{seconds}.srt", seconds)
        floor = floor_argv(clip, work / "floor.mp4", preset)
        floor_s, _ = best_of(repeat, lambda floor=floor: measure(floor))
        line = f"{seconds:3d} s {preset:<9} floor {floor_s:6.2f} s"
        for label, reframe, style in (("blur", "blur", "soft"), ("wash", "blur", "wash"), ("fit", "fit", "soft")):
            argv = sossut("render", str(clip), "-o", str(work / f"{label}.mp4"), "--comment", COMMENT,
                          "--captions", str(captions), "--reframe", reframe,
                          "--config", str(configs[preset, style]))
            seconds_taken, _ = best_of(repeat, lambda argv=argv: measure(argv, cwd=ROOT))
            line += f"   {label} {seconds_taken:6.2f} s ({seconds_taken / floor_s:4.2f}x)"
        print(line)
    print("targets: blur 30 s <= 1.15x, 10 s <= 1.3x, medium as veryfast "
          '(wash: `blur_style = "wash"`, the blurred copy\'s colours row by row)')
    print()


def bench_throughput(work: Path, repeat: int) -> None:
    from pipeline.batch import default_jobs

    work = work / "throughput"
    work.mkdir(exist_ok=True)
    clips = [make_test_clip(work / f"clip{i}.mp4", 10) for i in range(8)]
    manifest = work / "eight.csv"
    manifest.write_text("clip;comment;output;captions\n"
                        + "".join(f"{c.name};Kysymys {i}: {COMMENT};out{i}.mp4;none\n" for i, c in enumerate(clips)),
                        encoding="utf-8")
    out = work / "out"

    def floors() -> tuple[float, float]:
        started = time.perf_counter()
        for clip in clips:
            measure(floor_argv(clip, work / "floor.mp4", SETTINGS.encoder.preset))
        return time.perf_counter() - started, 0.0

    def batch() -> tuple[float, float]:
        shutil.rmtree(out, ignore_errors=True)
        return measure(sossut("batch", str(manifest), "--out-dir", str(out), "--quiet"), cwd=ROOT)

    floor_s, _ = best_of(repeat, floors)
    batch_s, mb = best_of(repeat, batch)
    print(f"## throughput: 8 clips of 10 s 1920x1080, captions none (best of {repeat}; auto --jobs = "
          f"{default_jobs()})")
    print(f"8 floors one after the other           {floor_s:7.2f} s")
    print(f"sossut batch, --jobs automatic         {batch_s:7.2f} s   peak RSS {mb:6.0f} MB")
    print(f"ratio batch/floors                     {batch_s / floor_s:7.2f}     (target <= 1.1)")
    print()


if __name__ == "__main__":  # python -m bench.bench_speed [startup,blur,throughput] [--compare DIR]
    sections = sys.argv[1].split(",") if len(sys.argv) > 1 else ["startup", "blur", "throughput"]
    other = Path(sys.argv[sys.argv.index("--compare") + 1]) if "--compare" in sys.argv else None
    with tempfile.TemporaryDirectory(prefix="sossut-bench-") as tmp:
        if "startup" in sections:
            bench_startup(Path(tmp), 3, other)
        if "blur" in sections:
            bench_blur(Path(tmp), 2)
        if "throughput" in sections:
            bench_throughput(Path(tmp), 1)
