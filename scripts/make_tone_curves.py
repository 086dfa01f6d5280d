"""Write `pipeline/video/tone_curves.py`: the grey curve `L` of every tone mapping the config
allows (HLG and PQ, each operator), as ffmpeg's float chain (`reference_chain`) gives it. Run
again when that chain changes; `tests/media/test_hdr_lut.py` checks the curves against it.

    python scripts/make_tone_curves.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import ffmpeg as ffmpeg_python
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import allowed_values  # noqa: E402
from pipeline.video.ffmpeg import ffmpeg_path, run_ffmpeg  # noqa: E402
from pipeline.video.hdr import LUT_POINTS, reference_chain  # noqa: E402

TRANSFERS = ("arib-std-b67", "smpte2084")


def grey_curve(transfer: str, tonemap: str) -> tuple[float, ...]:
    """The SDR luma (0..1 of TV range) of the greys Y' = i / (points - 1) (TV range), Cb = Cr = 0."""
    n = LUT_POINTS
    y = 64 + 876 * np.arange(n) / (n - 1)
    planes = np.stack([y, np.full(n, 512.0), np.full(n, 512.0)]) * 64
    with tempfile.TemporaryDirectory() as tmp:
        grid, out = Path(tmp) / "grey.yuv", Path(tmp) / "out.yuv"
        grid.write_bytes(np.round(planes).astype("<u2").tobytes())
        v = ffmpeg_python.input(str(grid), f="rawvideo", pix_fmt="yuv444p16le", s=f"{n}x1").video
        v = v.filter("setparams", color_primaries="bt2020", color_trc=transfer, colorspace="bt2020nc", range="tv")
        node = ffmpeg_python.output(reference_chain(v, tonemap, pix_fmt="yuv444p16le"), str(out), f="rawvideo")
        run_ffmpeg([ffmpeg_path(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
                    *node.compile(cmd=ffmpeg_path())[1:]])
        luma = np.frombuffer(out.read_bytes(), dtype="<u2")[:n] / 64
    return tuple(float(x) for x in np.clip((luma - 64) / 876, 0, 1))


def main() -> None:
    rows = []
    for transfer in TRANSFERS:
        for tonemap in allowed_values("reframe.tonemap"):
            curve = grey_curve(transfer, tonemap)
            lines = [", ".join(f"{x:.6f}" for x in curve[i:i + 8]) + "," for i in range(0, len(curve), 8)]
            body = "\n".join("        " + line for line in lines)
            rows.append(f'    ("{transfer}", "{tonemap}"): (\n{body}\n    ),')
    text = (
        '"""The grey curve `L` of each tone mapping (`pipeline.video.hdr`): made by\n'
        "`scripts/make_tone_curves.py` from ffmpeg's float chain; do not edit by hand. Key: (transfer,\n"
        "operator); value: the SDR luma (0..1 of TV range) of the grey Y' = i/63 (0..1 of TV range).\n"
        '"""\n\n'
        "GREY_CURVES: dict[tuple[str, str], tuple[float, ...]] = {\n" + "\n".join(rows) + "\n}\n"
    )
    (ROOT / "pipeline" / "video" / "tone_curves.py").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
