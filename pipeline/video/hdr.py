"""HDR -> SDR: an HLG/PQ picture tone-mapped to BT.709 through a 3D LUT made once per kind of clip.

The reference is ffmpeg's own float chain (`reference_chain`: zscale to linear light, BT.709
primaries, `tonemap`, zscale back). Run per pixel at full resolution it cost more than decoding
and encoding together, so it is run once, on a grid of 64 x 64 x 64 Y'CbCr values, and the
result is kept as a `.cube` file: `LutSpec` -> `lut_file(spec)`, under `<cache>/tonemap/`, keyed
by transfer, primaries, operator, reference white, LUT size and the ffmpeg binary, with a
checksum so a damaged file is made again.

A render (`tonemap_chain`) scales a picture larger than the canvas needs down first (in 10-bit:
a 4K clip costs like 1080p) and then splits the work by resolution:

- the LUT is looked up on a half-size picture (4:2:0 chroma has that size anyway), indexed by
  Y'CbCr itself, so there is no conversion to RGB and back. It gives the BT.709 chroma and, for
  luma, only the change: SDR luma minus HDR luma, smooth like the colours it depends on;
- the full-size luma gets that change, scaled up, added: Y = Y + up(Y_lut - Y_half).

Flat areas come out as the LUT gives them; fine detail keeps its contrast as it was filmed (the
tone curve bends it a little in the highlights, this does not). That is about a third of the
work of looking every pixel up in RGB, the way it was done before. Mean CIELAB ΔE against
`reference_chain`: about 2 on saturated test patterns, most of it a pixel wide at edges between
saturated colours, and 1.4-1.8 on the HDR fixtures (the whole-picture RGB LUT: about 1). The
filtergraph names the LUT by a fixed name inside ffmpeg's work folder (`LutSpec.work_name`),
never by a path.

BT.2100 (HLG and PQ) uses the BT.2020 non-constant-luminance matrix; a clip tagged otherwise, or
full range, is converted to it first.
"""

from __future__ import annotations

import hashlib
import logging
import math
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
# points a side of the LUT's Y'CbCr grid
LUT_POINTS = 64
_FORMAT_VERSION = 3  # bump when the way the LUT is made changes: old cache files are then unused
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


def reference_chain(v: Any, tonemap: str, *, pix_fmt: str = "yuv420p") -> Any:
    """The float tone-mapping chain (zscale reads the input's tags): HLG/PQ -> linear light ->
    BT.709 primaries -> `tonemap` (no desaturation) -> BT.709 Y'CbCr, TV range, as `pix_fmt`.
    Slow: the LUT's reference. A clip's HDR metadata (MaxCLL, mastering display) does not reach
    `tonemap` (its frames come from zscale as linear light without it), so its peak is always
    its default 10: a grid without metadata makes the same LUT (tests/media/test_hdr_lut.py)."""
    v = (
        v.filter("zscale", t="linear", npl=NPL)
        .filter("format", "gbrpf32le")
        .filter("zscale", p="bt709")
        .filter("tonemap", tonemap=tonemap, desat=0)
    )
    return v.filter("zscale", t="bt709", m="bt709", r="tv").filter("format", pix_fmt)


def tonemap_chain(v: Any, spec: LutSpec, *, shrink: dict[str, Any] | None = None) -> Any:
    """HDR video -> 8-bit BT.709 yuv420p through the LUT of `spec` (in ffmpeg's work folder).

    `shrink`: `scale` arguments that bring a picture larger than the canvas needs down to that
    size first, still in 10-bit, so only the pixels that will be shown are looked up.
    """
    # BT.2020 matrix, TV range, 4:2:0 10-bit, even sides: what the planes below are read as.
    # For a phone's clip that is what it already is, and scale and crop pass it through.
    v = v.filter("scale", **(shrink or {}), out_color_matrix="bt2020", out_range="tv")
    v = v.filter("format", "yuv420p10le").filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2")
    # Relabelled full range (the codes stay as they are), so that no filter below "converts"
    # the gray planes between ranges.
    planes = v.filter("setparams", range="pc").filter_multi_output("extractplanes", "y+u+v")
    copies = planes[0].split()
    luma, to_half = copies[0], copies[1]
    half = [to_half.filter("scale", "iw/2", "ih/2").filter("format", "gray16le"),
            planes[1].filter("format", "gray16le"), planes[2].filter("format", "gray16le")]
    # G <- Y', B <- Cb, R <- Cr: the LUT's axes (16-bit: `lut3d` is fastest there)
    looked_up = (
        ffmpeg_python.filter(half, "mergeplanes", **_MAPPING, format="gbrp16le")
        .filter("lut3d", file=spec.work_name, interp="tetrahedral")
        .filter_multi_output("extractplanes", "r+g+b")
    )
    # From here 8-bit, as the output is: the LUT's values are 8-bit codes / 255, so the 16-bit
    # planes come down to them exactly, and 8-bit `blend` and `scale` have SIMD.
    cr, difference, cb = (looked_up[i].filter("format", "gray") for i in range(3))
    difference = difference.filter("scale", "iw*2", "ih*2")
    luma = ffmpeg_python.filter([luma.filter("format", "gray"), difference], "blend", all_mode="grainmerge")
    merged = ffmpeg_python.filter([luma, cb, cr], "mergeplanes", **_MAPPING, format="yuv420p")
    return merged.filter("setparams", range="tv", colorspace="bt709")


# mergeplanes: output plane i <- plane 0 of input i
_MAPPING = {"map0s": 0, "map0p": 0, "map1s": 1, "map1p": 0, "map2s": 2, "map2p": 0}


def shrink_args(plan: RenderPlan) -> dict[str, Any] | None:
    """The reframe's scale of the clip when it makes the picture smaller, else None. The result
    has even sides (the tone mapping's split path needs them)."""
    width, height = plan.canvas
    w, h = plan.media.display_size
    if plan.picture_reframe == "crop":
        if max(width / w, height / h) >= 1:
            return None
        return {"w": width, "h": height, "force_original_aspect_ratio": "increase", "force_divisible_by": 2}
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
    key = "|".join([spec.transfer, spec.primaries, spec.tonemap, str(NPL), str(LUT_POINTS),
                    str(_FORMAT_VERSION), _ffmpeg_identity(binary)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return cache_root() / "tonemap" / f"{spec.work_name[:-5]}-{digest}.cube"


def grid_args(spec: LutSpec, grid: Path, output: Path, *, ffmpeg: str = "ffmpeg") -> list[str]:
    """The ffmpeg argv that reads the Y'CbCr grid (`_grid`, raw 16-bit 4:4:4), tags it as the
    clip's colours, runs it through `reference_chain` and writes raw 16-bit BT.709 4:4:4."""
    side = _grid_side()
    source = ffmpeg_python.input(str(grid), f="rawvideo", pix_fmt="yuv444p16le", s=f"{side}x{side}")
    v = source.video.filter(
        "setparams", color_primaries=spec.primaries, color_trc=spec.transfer, colorspace="bt2020nc", range="tv"
    )
    v = reference_chain(v, spec.tonemap, pix_fmt="yuv444p16le")
    node = ffmpeg_python.output(v, str(output), f="rawvideo")
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *node.compile(cmd=ffmpeg)[1:]]


def _grid_side() -> int:
    """The grid is stored as a square picture: 512 x 512 for 64 points a side."""
    side = math.isqrt(LUT_POINTS**3)
    assert side * side == LUT_POINTS**3
    return side


def _grid() -> Any:
    """The LUT's points as 10-bit codes (Y', Cb, Cr), in `.cube` order: red (Cr) fastest, then
    green (Y'), then blue (Cb); point i of an axis is the code i * 1023 / (points - 1)."""
    import numpy as np

    n = LUT_POINTS
    index = np.arange(n**3)
    cr, y, cb = index % n, (index // n) % n, index // (n * n)
    return np.stack([y, cb, cr]) * (1023 / (n - 1))


def _cube_text(spec: LutSpec, grid: Any, mapped_raw: bytes) -> str:
    """The `.cube` file (with a checksum line first): for each grid point, R = the Cr and
    B = the Cb of the SDR colour, G = its luma minus the point's own luma, + 128 (all as
    8-bit codes / 255; the grid's points are 10-bit codes / 1023)."""
    import numpy as np

    mapped = np.frombuffer(mapped_raw, dtype="<u2").astype(np.float64).reshape(3, -1) / 64  # 16-bit -> 10-bit
    if mapped.shape[1] != LUT_POINTS**3:
        raise RenderError(f"the HDR tone-mapping table has {mapped.shape[1]} points, not {LUT_POINTS**3}")
    difference = mapped[0] - grid[0] + 512  # luma: SDR minus HDR
    # as 8-bit codes (10-bit / 4) over 255: what the render's 8-bit planes read
    rows = np.clip(np.stack([mapped[2], difference, mapped[1]], axis=1) / (4 * 255), 0.0, 1.0)
    body = f"LUT_3D_SIZE {LUT_POINTS}\n" + "\n".join(
        f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows.tolist()) + "\n"
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
    import numpy as np

    grid = _grid()
    with tempfile.TemporaryDirectory(prefix="sossut-lut-") as work:
        grid_file, mapped_file = Path(work) / "grid.yuv", Path(work) / "mapped.yuv"
        grid_file.write_bytes(np.round(grid * 64).astype("<u2").tobytes())  # 10-bit -> 16-bit codes
        run_ffmpeg(grid_args(spec, grid_file, mapped_file, ffmpeg=ffmpeg_path()),
                   what="making the HDR tone-mapping table")
        atomic_write(output, _cube_text(spec, grid, mapped_file.read_bytes()), encoding="ascii")
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
