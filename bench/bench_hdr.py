"""`make bench` section `hdr`: iPhone-like HDR clips (10-bit HEVC, BT.2020 + HLG, 30 s) against the
bare SDR floor of the same clip. Not a test.

For 1080x1920 and 2160x3840 clips:
  floor  ffmpeg decode -> scale (+pad) to 1080x1920 yuv420p (no tone mapping) -> the render's encoder;
  blur   `sossut render --captions none --reframe blur` with the card;
  crop   the same with `--reframe crop`.
With `--before DIR` (a checkout of the code before a change) its renders are timed too, in the same
run, so the before/after ratios share one machine state.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.bench import ROOT, SETTINGS, best_of, measure, sossut
from pipeline.video.ffmpeg import ffmpeg_path

SIZES = ((1080, 1920), (2160, 3840))
COMMENT = "Voiko lastensuojeluilmoituksen tehdä nimettömänä? 🤔"
TARGET = {(1080, 1920): 1.4, (2160, 3840): 1.5}


def make_hdr_clip(path: Path, size: tuple[int, int], seconds: int, fps: int = 30) -> Path:
    """A 10-bit HEVC clip tagged BT.2020 + HLG with a real HLG signal (as an iPhone records), and
    a sine tone; kept if it is already there (the 4K one takes minutes to encode on 2 cores)."""
    if path.exists():
        return path
    w, h = size
    tmp = path.with_name(".tmp-" + path.name)
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={fps}:d={seconds}",
         "-f", "lavfi", "-i", f"sine=f=300:d={seconds}",
         "-vf", "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=arib-std-b67:m=bt2020nc:p=bt2020:r=tv:npl=203,"
                "format=yuv420p10le",
         "-c:v", "libx265", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1",
         "-x265-params", "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc",
         "-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc",
         "-c:a", "aac", "-shortest", str(tmp)],
        check=True,
    )
    tmp.replace(path)
    return path


def floor_argv(clip: Path, out: Path) -> list[str]:
    """Bare ffmpeg: decode, scale (+pad) to the canvas as yuv420p without tone mapping, encode."""
    enc = SETTINGS.encoder
    return [
        ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip),
        "-vf", "scale=1080:1920:force_original_aspect_ratio=decrease,pad=1080:1920:(ow-iw)/2:(oh-ih)/2,"
               "format=yuv420p",
        "-c:v", enc.codec, "-preset", enc.preset, "-crf", str(enc.crf), "-profile:v", enc.profile,
        "-pix_fmt", enc.pix_fmt, "-c:a", enc.audio_codec, "-b:a", enc.audio_bitrate, "-ar", str(enc.audio_rate),
        "-movflags", "+faststart", str(out),
    ]


def bench_hdr(work: Path, repeat: int, before: Path | None = None, seconds: int = 30) -> None:
    trees = [("after", ROOT)] + ([("before", before.resolve())] if before else [])
    warmed: set[str] = set()
    print(f"## hdr ({seconds} s HLG 10-bit HEVC -> 1080x1920, {SETTINGS.encoder.codec} "
          f"preset={SETTINGS.encoder.preset} crf={SETTINGS.encoder.crf}, best of {repeat})")
    for size in SIZES:
        clip = make_hdr_clip(work / f"hlg-{size[0]}x{size[1]}-{seconds}s.mp4", size, seconds)
        floor_cmd = floor_argv(clip, work / "floor.mp4")
        floor = best_of(repeat, lambda c=floor_cmd: measure(c))
        print(f"{size[0]}x{size[1]} floor (scale+pad+encode)      {floor[0]:7.2f} s   peak RSS {floor[1]:6.0f} MB")
        for mode in ("blur", "crop"):
            for name, tree in trees:
                argv = sossut("render", str(clip), "-o", str(work / f"{name}-{mode}.mp4"), "--captions", "none",
                              "--reframe", mode, "--comment", COMMENT, "--user", "testi")
                # cwd=tree: `python -m` puts the cwd first on sys.path, before PYTHONPATH
                env = {"PYTHONPATH": str(tree)}
                if name not in warmed:  # imports, fonts, and the tone-mapping LUT cache
                    measure(argv, cwd=tree, env=env)
                    warmed.add(name)
                took, rss = best_of(repeat, lambda a=argv, t=tree, e=env: measure(a, cwd=t, env=e))
                print(f"{size[0]}x{size[1]} {mode} {name:6s} sossut render      {took:7.2f} s   "
                      f"peak RSS {rss:6.0f} MB   ratio {took / floor[0]:5.2f} (target <= {TARGET[size]})")
    print()
