"""Transcription speed: Whisper base int8 with 2 threads on ~60 s of Finnish speech.

`bench_transcribe(work, repeat)` is called by `bench/bench.py` (section `transcribe`). It
joins the committed speech fixtures into ~60 s of speech and, in a child process (so its
memory is its own), loads the embedded base model once and transcribes that audio `repeat`
times. Printed: model load time, the best real-time factor (seconds of work per second of
audio; < 1 is faster than real time) and the child's peak RSS. Then it times
`sossut render --captions auto` of a 60 s 1080p clip with that speech (fresh transcript cache)
as a fraction of the clip's length, and the peak RSS of its whole process tree (the CLI, the
child process that runs the model, ffmpeg).

Run alone: .venv/bin/python bench/bench_transcribe.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SPEECH = ROOT / "tests" / "fixtures" / "speech"
RATE = 16000
TARGET_SECONDS = 60.0


def speech_minute() -> np.ndarray:
    """About 60 s of speech: the spoken fixtures in turn, 0.4 s apart, repeated as needed."""
    from pipeline.speech.transcribe import load_audio

    spoken = [p for p in sorted(SPEECH.glob("*.flac")) if json.loads(p.with_suffix(".json").read_text())["text"]]
    clips = [load_audio(p) for p in spoken]
    gap = np.zeros(int(0.4 * RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    total = 0
    while total < TARGET_SECONDS * RATE:
        clip = clips[len(parts) // 2 % len(clips)]
        parts += [clip, gap]
        total += len(clip) + len(gap)
    return np.concatenate(parts)[: int(TARGET_SECONDS * RATE)]


def write_wav(path: Path, audio: np.ndarray) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(audio * 32767, -32768, 32767).astype("<i2").tobytes())


def _child(wav: Path, repeat: int, threads: int) -> None:
    """In the child: load once, transcribe `repeat` times, print JSON."""
    from pipeline.config import load_settings
    from pipeline.speech.transcribe import get_transcriber, load_audio, options_from_settings

    options = options_from_settings(load_settings().transcribe, threads=threads, compute_type="int8", model="base")
    audio = load_audio(wav)
    started = time.perf_counter()
    transcriber = get_transcriber(options)
    load_s = time.perf_counter() - started
    runs = []
    words = 0
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        transcript = transcriber.transcribe(audio, options)
        runs.append(time.perf_counter() - started)
        words = len(transcript.words)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    result = {"audio_s": len(audio) / RATE, "load_s": load_s, "runs": runs, "words": words, "peak_mb": peak_mb}
    print(json.dumps(result))


def measure_rtf(work: Path, repeat: int = 2, threads: int = 2) -> dict[str, float]:
    """Real-time factor of base int8 on ~60 s of speech, in a child process.

    Returns:
        {"audio_s", "load_s", "best_s", "rtf", "peak_mb", "words"}.
    """
    wav = work / "speech-60s.wav"
    write_wav(wav, speech_minute())
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(wav), "--repeat", str(repeat), "--threads", str(threads)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    best = min(data["runs"])
    return {
        "audio_s": data["audio_s"],
        "load_s": data["load_s"],
        "best_s": best,
        "rtf": best / data["audio_s"],
        "peak_mb": data["peak_mb"],
        "words": data["words"],
    }


def measure_render(work: Path, repeat: int = 1) -> tuple[float, float, float]:
    """`sossut render --captions auto` of a 60 s 1080p clip with the speech.

    Returns (seconds, fraction of 60 s, peak RSS of the process tree in MB).
    """
    from bench.bench import measure
    from pipeline.speech import weights as model_store
    from pipeline.video.ffmpeg import ffmpeg_path

    wav = work / "speech-60s.wav"
    if not wav.exists():
        write_wav(wav, speech_minute())
    clip = work / "puhe-60s.mp4"
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d={TARGET_SECONDS}", "-i", str(wav),
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)],
        check=True,
    )
    model_store.embedded_base_model()  # assembled once, outside the timing
    best, peak = float("inf"), 0.0
    for i in range(max(repeat, 1)):
        cache = work / f"cache-{i}"
        cache.mkdir()
        (cache / "models").symlink_to(model_store.models_dir(), target_is_directory=True)
        env = {**os.environ, "SOSSUT_CACHE_DIR": str(cache)}
        argv = [sys.executable, "-m", "pipeline", "render", str(clip), "-o", str(work / f"out-{i}.mp4"),
                "--comment", "Miten lastensuojeluilmoitus tehdään?", "--captions", "auto"]
        seconds, mb = measure(argv, cwd=ROOT, env=env)
        best, peak = min(best, seconds), max(peak, mb)
    return best, best / TARGET_SECONDS, peak


def bench_transcribe(work: Path, repeat: int = 2) -> None:
    """Print the transcribe section of `make bench`."""
    r = measure_rtf(work, repeat)
    print(f"## transcribe (Whisper base int8, 2 threads, {r['audio_s']:.0f} s of Finnish speech, best of {repeat})")
    print(f"model load                            {r['load_s']:7.2f} s")
    print(f"transcribe                            {r['best_s']:7.2f} s   {r['words']:.0f} words")
    print(f"real-time factor                      {r['rtf']:7.3f}     (< 1: faster than real time)")
    print(f"peak RSS                              {r['peak_mb']:7.0f} MB")
    try:
        seconds, fraction, peak = measure_render(work, 1)
    except (subprocess.CalledProcessError, OSError, SystemExit) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        print(f"render --captions auto: failed ({exc}; {stderr.decode(errors='replace').strip()[-200:]})")
    else:
        print(f"sossut render --captions auto, 60 s   {seconds:7.2f} s   {fraction:.2f} x clip length   "
              f"peak RSS {peak:.0f} MB (targets < 1.0 x, <= 600 MB)")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.repeat, args.threads)
        return 0
    with tempfile.TemporaryDirectory(prefix="sossut-bench-") as tmp:
        bench_transcribe(Path(tmp), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
