"""Bench `sossut duet --layout switch`: how the cut between the two recordings is built. Not a test.

Two 30 s recordings (1920x1080 at 30 fps, 1080x1920 at 25 fps), the speaker changing every 3 s
(10 shots; and 1.5 s shots: 20), rendered with the configured encoder. Compared in the same run:

  select   (used) each recording read once; `select` keeps its own shots' frames before the
           reframe (only the shown picture is scaled), split + trim per shot, concat;
  inputs   an input per shot read from the shot's start (-ss), reframed on its own, concat;
  overlay  both recordings reframed to the full canvas all the time, B laid over A with an
           `enable` expression of B's shots;
  stack    the stack layout of the same pair, for reference.

Also `find_turns` on two 10-minute 16 kHz tracks (seconds). Run: `python bench/bench_duet_graphs.py`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench import make_test_clip, measure  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.types import DuetLayout, RenderPlan, Shot  # noqa: E402
from pipeline.video import duet as duet_graph  # noqa: E402
from pipeline.video import find_turns, make_duet_plan, probe  # noqa: E402
from pipeline.video.ffmpeg import ffmpeg_path  # noqa: E402
from pipeline.video.render import build_args  # noqa: E402


def _overlay_picture(plan: RenderPlan, layout: DuetLayout) -> Any:
    """The alternative: both recordings full frame all the time, B over A during B's shots."""
    a, b = (duet_graph._picture(plan, part, plan.canvas) for part in plan.parts)
    on = "+".join(f"between(t,{s.start:.4f},{s.end - 0.0001:.4f})" for s in layout.shots if s.speaker == 1)
    return ffmpeg_python.overlay(a, b, enable=on or "0", eof_action="pass")


def _inputs_picture(plan: RenderPlan, layout: DuetLayout) -> Any:
    """The alternative: an input per shot, read from the shot's start."""
    pieces = [duet_graph._picture(plan, plan.parts[s.speaker], plan.canvas, s.start, s.end - s.start)
              for s in layout.shots]
    return ffmpeg_python.concat(*pieces, v=1, a=0)


VARIANTS = {"select": None, "inputs": _inputs_picture, "overlay": _overlay_picture}


def bench_switch(work: Path, repeat: int) -> None:
    a = make_test_clip(work / "a.mp4", 30, "1920x1080", 30)
    b = make_test_clip(work / "b.mp4", 30, "1080x1920", 25)
    media_a, media_b = probe(a), probe(b)
    enc = load_settings().encoder
    for count in (10, 20):
        length = 30.0 / count
        shots = [Shot(k * length, (k + 1) * length, k % 2) for k in range(count)]
        argvs = {}
        for name, layout in (("select", "switch"), ("inputs", "switch"), ("overlay", "switch"),
                             ("stack", "stack")):
            if name == "stack" and count != 10:
                continue
            settings = load_settings().with_values(duet={"layout": layout})
            plan = make_duet_plan(media_a, media_b, 0.0, settings, work / f"{name}.mp4", shots=shots)
            original = duet_graph._switch_picture
            duet_graph._switch_picture = VARIANTS.get(name) or original  # type: ignore[assignment]
            try:
                argv = build_args(plan, work / f"{name}.mp4", ffmpeg=ffmpeg_path())
            finally:
                duet_graph._switch_picture = original  # type: ignore[assignment]
            argvs[name] = [x for x in argv if x not in ("-progress", "pipe:1")]
        # Round-robin, the order turned each round: on a shared machine a burst of load then
        # falls on a different variant each time; the best of each is kept.
        names = list(argvs)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for round_ in range(repeat):
            for name in names[round_ % len(names):] + names[: round_ % len(names)]:
                runs[name].append(measure(argvs[name], cwd=work))
        results = {name: (min(r[0] for r in got), max(r[1] for r in got)) for name, got in runs.items()}
        print(f"## duet switch (30 s, {count} shots, {enc.codec} preset={enc.preset}, best of {repeat}, round-robin)")
        for name, (seconds, mb) in results.items():
            print(f"{name:8s} {seconds:7.2f} s  peak RSS {mb:6.0f} MB  "
                  f"time ratio to select {seconds / results['select'][0]:5.2f}")
        print()


def bench_turns() -> None:
    rng = np.random.default_rng(0)
    size = 600 * 16000
    x, y = (rng.standard_normal(size).astype(np.float32) * 0.1 for _ in range(2))
    start = time.perf_counter()
    shots = find_turns(x, y, 16000, 600.0)
    print(f"find_turns on two 10-minute tracks: {time.perf_counter() - start:.2f} s ({len(shots)} shots)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sossut-bench-duet-") as tmp:
        bench_switch(Path(tmp), args.repeat)
    bench_turns()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
