"""HDR -> SDR: an HLG/PQ picture tone-mapped to BT.709 through a 3D LUT made once per kind of clip.

The reference is ffmpeg's own float chain (`reference_chain`: zscale to linear light, BT.709
primaries, `tonemap`, zscale back). Run per pixel at full resolution on one filter thread it
cost more than decoding and encoding together, so it is run once, on an identity Hald CLUT
(`haldclutsrc`, 64 points a side), and the result is kept as a `.cube` file: `LutSpec` ->
`lut_file(spec)`, under `<cache>/tonemap/`, keyed by transfer, primaries, operator, reference
white, LUT size and the ffmpeg binary, with a checksum so a damaged file is made again. A render
scales the 10-bit picture down to the size the canvas needs first (a 4K clip costs like 1080p),
converts it to 16-bit RGB, looks each pixel up (`lut3d`, tetrahedral) and goes to 8-bit BT.709
(`tonemap_chain`). The filtergraph names the LUT by a fixed name inside ffmpeg's work folder
(`LutSpec.work_name`), never by a path.

(`haldclut` would read the Hald image directly, but on planar RGB input it swaps the channels
in ffmpeg 9.0; `lut3d` on gbrp16le is right and as fast.)
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from pipeline.errors import OutputError, RenderError
from pipeline.files import atomic_write, cache_root
from pipeline.types import RenderPlan
from pipeline.video.ffmpeg import ffmpeg_path, run_ffmpeg

log = logging.getLogger(__name__)

# HDR reference white (ITU-R BT.2408: 203 cd/m2) maps to linear 1.0, i.e. to SDR white.
NPL = 203
# haldclutsrc level: level**2 = 64 points a side.
LUT_LEVEL = 8
LUT_POINTS = LUT_LEVEL**2
_FORMAT_VERSION = 1  # bump when the way the LUT is made changes: old cache files are then unused
_SAFE = re.compile(r"^[a-z0-9-]+$")
_CHECKSUM = "# sossut tone-mapping LUT sha256="


@dataclass(frozen=True, slots=True)
class LutSpec:
    """What a tone-mapping LUT depends on (besides the ffmpeg binary that makes it)."""

    transfer: str  # ffmpeg's name of the clip's transfer: "arib-std-b67" (HLG) or "smpte2084" (PQ)
    primaries: str  # "bt2020" for phone HDR (untagged is read as bt2020)
    tonemap: str  # the operator: mobius | hable | reinhard | clip

    @property
    def work_name(self) -> str:
        """The LUT's fixed file name inside ffmpeg's work folder (what the filtergraph names)."""
        parts = [self.transfer, self.primaries, self.tonemap]
        if all(_SAFE.match(p) for p in parts):
            return "tonemap-" + "-".join(parts) + ".cube"
        return "tonemap-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16] + ".cube"


def lut_spec(transfer: str, primaries: str, tonemap: str) -> LutSpec:
    """The LUT a clip with these colour tags needs."""
    return LutSpec(transfer=transfer, primaries=primaries or "bt2020", tonemap=tonemap)


def reference_chain(v: Any, tonemap: str, *, rgb_out: bool = False) -> Any:
    """The float tone-mapping chain (zscale reads the input's tags): HLG/PQ -> linear light ->
    BT.709 primaries -> `tonemap` (no desaturation) -> BT.709, as 8-bit yuv420p (TV range) or,
    with `rgb_out`, as full-range 16-bit RGB (how the LUT is made). Slow: the LUT's reference."""
    v = (
        v.filter("zscale", t="linear", npl=NPL)
        .filter("format", "gbrpf32le")
        .filter("zscale", p="bt709")
        .filter("tonemap", tonemap=tonemap, desat=0)
    )
    if rgb_out:
        return v.filter("zscale", t="bt709", r="pc").filter("format", "rgb48le")
    return v.filter("zscale", t="bt709", m="bt709", r="tv").filter("format", "yuv420p")


def tonemap_chain(v: Any, spec: LutSpec, *, shrink: dict[str, Any] | None = None) -> Any:
    """HDR video -> 8-bit BT.709 yuv420p through the LUT of `spec` (in ffmpeg's work folder).

    `shrink`: `scale` arguments that bring a picture larger than the canvas needs down to that
    size first, still in 10-bit, so only the pixels that will be shown are looked up.
    """
    if shrink:
        v = v.filter("scale", **shrink)  # keeps the 10-bit format: the next filter takes it
    # Y'CbCr -> R'G'B' (16-bit, full range) as the clip is tagged, and back after the lookups.
    # zscale, not swscale: the same CPU time here, and half the colour error (mean ΔE 1.0, not
    # 1.6, against `reference_chain` on the HLG test pattern).
    v = v.filter("zscale", r="pc").filter("format", "gbrp16le")
    v = v.filter("lut3d", file=spec.work_name, interp="tetrahedral")
    return v.filter("zscale", m="bt709", r="tv").filter("format", "yuv420p")


def shrink_args(plan: RenderPlan) -> dict[str, Any] | None:
    """The reframe's scale of the clip when it makes the picture smaller, else None."""
    width, height = plan.canvas
    w, h = plan.media.display_size
    if plan.reframe == "crop":
        if max(width / w, height / h) >= 1:
            return None
        return {"w": width, "h": height, "force_original_aspect_ratio": "increase"}
    if min(width / w, height / h) >= 1:
        return None
    return {"w": width, "h": height, "force_original_aspect_ratio": "decrease", "force_divisible_by": 2}


def hdr_specs(plan: RenderPlan) -> list[LutSpec]:
    """The tone-mapping LUTs a plan's graph reads (one per kind of HDR clip in it)."""
    clips = [(p.tonemap, p.media) for p in plan.parts] if plan.parts else [(plan.tonemap, plan.media)]
    specs = [lut_spec(m.color_transfer, m.color_primaries, t) for t, m in clips if t]
    return sorted(set(specs), key=lambda s: s.work_name)


def _ffmpeg_identity(binary: str) -> str:
    """The ffmpeg binary as it is on disk (its path names the version; size and time say more)."""
    try:
        st = os.stat(binary)
        return f"{binary}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return binary


def cache_file(spec: LutSpec, binary: str) -> Path:
    """Where the LUT for `spec` made by the ffmpeg `binary` is cached."""
    key = "|".join([spec.transfer, spec.primaries, spec.tonemap, str(NPL), str(LUT_LEVEL),
                    str(_FORMAT_VERSION), _ffmpeg_identity(binary)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return cache_root() / "tonemap" / f"{spec.work_name[:-5]}-{digest}.cube"


def hald_args(spec: LutSpec, output: Path, *, ffmpeg: str = "ffmpeg") -> list[str]:
    """The ffmpeg argv that runs the identity Hald CLUT, tagged as the clip's colours, through
    `reference_chain` and writes it as one 16-bit RGB PNG to `output`."""
    identity = ffmpeg_python.input(f"haldclutsrc=level={LUT_LEVEL}", f="lavfi")
    v = identity.video.filter("format", "gbrp16le").filter(
        "setparams", color_primaries=spec.primaries, color_trc=spec.transfer, colorspace="gbr", range="pc"
    )
    v = reference_chain(v, spec.tonemap, rgb_out=True)
    node = ffmpeg_python.output(v, str(output), **{"frames:v": 1, "update": 1, "c:v": "png", "f": "image2"})
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *node.compile(cmd=ffmpeg)[1:]]


def _cube_text(hald_png: Path) -> str:
    """The Hald image as a `.cube` file (red fastest, as both formats order the points), with a
    checksum line first."""
    import av
    import numpy as np

    with av.open(str(hald_png)) as container:
        rgb = next(container.decode(video=0)).to_ndarray(format="rgb48le")
    points = rgb.reshape(-1, 3).astype(np.float64) / 65535.0
    if points.shape[0] != LUT_POINTS**3:
        raise RenderError(f"the HDR tone-mapping table has {points.shape[0]} points, not {LUT_POINTS**3}")
    body = f"LUT_3D_SIZE {LUT_POINTS}\n" + "\n".join(
        " ".join(f"{c:.6f}" for c in row) for row in points.tolist()) + "\n"
    return f"{_CHECKSUM}{hashlib.sha256(body.encode()).hexdigest()}\n{body}"


def valid_lut(path: Path) -> bool:
    """Whether `path` is a whole LUT as `make_lut` wrote it (its checksum matches)."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return False
    first, _, body = text.partition("\n")
    return first.startswith(_CHECKSUM) and first[len(_CHECKSUM):] == hashlib.sha256(body.encode()).hexdigest()


def make_lut(spec: LutSpec, output: Path) -> Path:
    """Make the LUT for `spec` at `output` (written atomically).

    Raises:
        RenderError: ffmpeg failed (an ffmpeg without zscale, for one).
        OutputError: `output`'s folder cannot be written.
    """
    with tempfile.TemporaryDirectory(prefix="sossut-lut-") as work:
        hald = Path(work) / "hald.png"
        run_ffmpeg(hald_args(spec, hald, ffmpeg=ffmpeg_path()), what="making the HDR tone-mapping table")
        atomic_write(output, _cube_text(hald), encoding="ascii")
    return output


def lut_file(spec: LutSpec, fallback_dir: Path) -> Path:
    """The cached LUT for `spec`, made first if it is missing or damaged.

    A cache that cannot be written (read-only home, full disk) is not an error: the LUT is then
    made in `fallback_dir` (the render's work folder) for this render only.

    Raises:
        RenderError: ffmpeg could not make the LUT.
    """
    path = cache_file(spec, ffmpeg_path())
    if valid_lut(path):
        return path
    if path.exists():
        log.info("tone-mapping table %s is damaged; making it again", path.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return make_lut(spec, path)
    except (OSError, OutputError) as exc:
        log.info("cannot cache the tone-mapping table (%s); making it for this render only", exc)
        return make_lut(spec, fallback_dir / ("made-" + spec.work_name))
