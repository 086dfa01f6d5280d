"""HDR tone mapping through the cached 3D LUT (`pipeline.video.hdr`) against the float chain it
replaces (`reference_chain`): the same picture within a mean CIELAB ΔE of 3 on HLG and PQ test
patterns (saturated bars, highlights above reference white), on the HDR fixtures and on odd-sized
full-range 4:4:4 clips; a 4K clip
comes out 1080x1920 BT.709 8-bit with the card and the captions in place; the cache is made
again when damaged."""

from __future__ import annotations

import os
from pathlib import Path

import av
import ffmpeg as ffmpeg_python
import numpy as np
import pytest
from PIL import Image

from pipeline.config import load_settings
from pipeline.reply import ReplyJob, make_reply
from pipeline.types import Comment
from pipeline.video.ffmpeg import ffmpeg_path
from pipeline.video.hdr import (
    LutSpec,
    cache_file,
    lut_file,
    lut_spec,
    reference_chain,
    tonemap_chain,
    valid_lut,
)
from pipeline.video.media import probe
from pipeline.video.plan import card_content, place_card
from tests.conftest import frame_at, make_clip, probe_output, run

pytestmark = pytest.mark.media

SETTINGS = load_settings()
TRC = {"hlg": "arib-std-b67", "pq": "smpte2084"}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LUTs cached in a folder of this test module's, not the tester's own cache."""
    folder = tmp_path_factory.getbasetemp() / "lut-cache"
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(folder))
    return folder


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB (BT.709 primaries, D65) -> CIELAB."""
    c = rgb.astype(np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CIE76 ΔE per pixel between two RGB images."""
    return np.linalg.norm(srgb_to_lab(a) - srgb_to_lab(b), axis=-1)  # type: ignore[no-any-return]


def test_lab_converter_on_known_colours() -> None:
    lab = srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]]))
    assert np.allclose(lab[0], [100, 0, 0], atol=0.1) and np.allclose(lab[1], [0, 0, 0], atol=0.1)
    assert np.allclose(lab[2], [53.24, 80.09, 67.20], atol=0.2)  # sRGB red


def make_pattern(path: Path, kind: str, size: tuple[int, int] = (640, 720), metadata: str = "") -> Path:
    """A 10-bit BT.2020 HLG/PQ test pattern (one frame's worth): SMPTE bars at reference white
    above, `testsrc2` (saturated hues, gradients, text) mapped so SDR white is 4x reference white
    below (highlights the tone curve must compress), in 4:2:0 HEVC like a phone. `metadata`:
    x265's HDR metadata options (":max-cll=...:master-display=..."), as a phone writes them."""
    w, h = size
    trc = TRC[kind]
    to_hdr = "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t={trc}:m=bt2020nc:p=bt2020:r=tv:npl={npl},format=yuv420p10le"
    graph = (f"smptehdbars=s={w}x{h // 2}:r=30:d=0.5,{to_hdr.format(trc=trc, npl=203)}[a];"
             f"testsrc2=s={w}x{h // 2}:r=30:d=0.5,{to_hdr.format(trc=trc, npl=812)}[b];[a][b]vstack")
    run("-filter_complex", graph, "-c:v", "libx265", "-preset", "ultrafast", "-crf", "4", "-pix_fmt", "yuv420p10le",
        "-x265-params", f"log-level=error:colorprim=bt2020:transfer={trc}:colormatrix=bt2020nc{metadata}",
        "-color_primaries", "bt2020", "-color_trc", trc, "-colorspace", "bt2020nc", str(path))
    return path


def first_frame(clip: Path, chain: str, tmp_path: Path, tonemap: str = "mobius",
                size: tuple[int, int] | None = None, pix_fmt: str = "yuv420p") -> np.ndarray:
    """The clip's first frame tone-mapped by the `reference` chain or the `lut` one (optionally
    scaled to `size`: the reference after tone mapping, as before; the LUT path before), as RGB."""
    media = probe(clip)
    spec = lut_spec(media.color_transfer, media.color_primaries, tonemap)
    work = tmp_path / f"work-{chain}"
    work.mkdir(exist_ok=True)
    if not (work / spec.work_name).exists():
        os.symlink(lut_file(spec, work), work / spec.work_name)
    v = ffmpeg_python.input(str(clip)).video
    if chain == "reference":
        v = reference_chain(v, tonemap, pix_fmt=pix_fmt)
        if size:
            v = v.filter("scale", size[0], size[1])
    else:
        shrink = {"w": size[0], "h": size[1]} if size else None
        v = tonemap_chain(v, spec, shrink=shrink)
    v = v.filter("scale", in_color_matrix="bt709", in_range="tv").filter("format", "rgb24")
    out = tmp_path / f"{chain}.png"
    node = ffmpeg_python.output(v, str(out), **{"frames:v": 1, "update": 1})
    import subprocess

    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", *node.compile()[1:]],
                   cwd=work, check=True)
    with av.open(str(out)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


@pytest.mark.parametrize("kind", ["hlg", "pq"])
def test_lut_matches_the_float_chain_on_test_patterns(tmp_path: Path, kind: str) -> None:
    clip = make_pattern(tmp_path / f"{kind}.mp4", kind)
    reference = first_frame(clip, "reference", tmp_path)
    mapped = first_frame(clip, "lut", tmp_path)
    assert mapped.shape == reference.shape == (720, 640, 3)
    error = delta_e(mapped, reference)
    assert error.mean() < 3, error.mean()
    assert np.percentile(error, 95) < 6, np.percentile(error, 95)
    # the pattern is what it is meant to be: saturated colours, and highlights brought near the top
    saturation = mapped.max(axis=-1).astype(int) - mapped.min(axis=-1)
    assert (saturation > 150).mean() > 0.2
    assert (mapped[360:].max(axis=-1) > 245).mean() > 0.2


@pytest.mark.parametrize("kind", ["hlg", "pq"])
def test_hdr_metadata_changes_neither_the_float_chain_nor_the_lut(tmp_path: Path, kind: str) -> None:
    """A clip with a phone's HDR metadata (MaxCLL and a mastering display of 4000 cd/m2): the
    float chain's `tonemap` gets linear frames without it (zscale drops it) and uses its fixed
    default peak, so the LUT made from a grid without metadata still gives its picture. Checked
    with `hable`, whose curve depends most on the peak (its curve for the metadata's 4000 cd/m2,
    peak=40, differs from the default by a mean ΔE of 5.4 on this pattern)."""
    mastering = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(40000000,1)"
    clip = make_pattern(tmp_path / f"{kind}.mp4", kind, metadata=f":max-cll=4000,400:master-display={mastering}")
    error = delta_e(first_frame(clip, "lut", tmp_path, "hable"), first_frame(clip, "reference", tmp_path, "hable"))
    assert error.mean() < 3, error.mean()


@pytest.mark.parametrize("kind", ["hlg", "pq"])
def test_scaling_down_before_the_lut_keeps_the_colours(tmp_path: Path, kind: str) -> None:
    """A clip larger than the canvas is scaled down in 10-bit HLG/PQ before the lookup; the old
    chain tone-mapped at full size and scaled the SDR picture: the two agree within ΔE 3."""
    clip = make_pattern(tmp_path / f"{kind}.mp4", kind, size=(1280, 1440))
    reference = first_frame(clip, "reference", tmp_path, size=(640, 720))
    mapped = first_frame(clip, "lut", tmp_path, size=(640, 720))
    error = delta_e(mapped, reference)
    assert error.mean() < 3, error.mean()


@pytest.mark.parametrize("kind", ["hlg", "pq"])
@pytest.mark.parametrize("tonemap", ["mobius", "hable"])
def test_lut_matches_the_float_chain_on_the_fixtures(clips, tmp_path: Path, kind: str, tonemap: str) -> None:
    clip = clips(kind)
    error = delta_e(first_frame(clip, "lut", tmp_path, tonemap), first_frame(clip, "reference", tmp_path, tonemap))
    assert error.mean() < 3, error.mean()


def test_4k_hdr_clip_comes_out_1080x1920_with_card_and_captions(tmp_path: Path) -> None:
    """A 2160x3840 HLG clip (an iPhone 4K setting, filmed upright) of one flat colour: 1080x1920
    8-bit BT.709, the colour as the SDR original, the card where it belongs, the caption burned."""
    clip = make_clip(tmp_path / "4k.mp4", size=(2160, 3840), seconds=1.0, hdr="hlg", source="color=c=0x336699:")
    captions = tmp_path / "teksti.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:01,000\nHei kaikki, tämä näkyy\n", encoding="utf-8")
    out = tmp_path / "out.mp4"
    comment = Comment("Mitä tapahtuu ilmoituksen jälkeen?", "testi_nuori")
    make_reply(ReplyJob(clip, comment, out, captions=str(captions)), SETTINGS)
    info = probe_output(out)
    assert (info["width"], info["height"]) == (1080, 1920)
    assert info["pix_fmt"] == "yuv420p" and info["color_trc"] == 1 and info["color_primaries"] == 1
    frame = frame_at(out, 0.5).astype(int)
    # the picture: the colour the float chain gives the 4K frame
    patch = frame[700:900, 100:900].reshape(-1, 3).mean(axis=0)
    expected = first_frame(clip, "reference", tmp_path).reshape(-1, 3).mean(axis=0)
    assert delta_e(patch[None], expected[None])[0] < 3, (patch, expected)
    # the card, pixel for pixel where it is opaque
    from pipeline.card.draw import write_card

    card = write_card(card_content(comment, SETTINGS), SETTINGS.card, tmp_path / "card.png")
    place = place_card(card, SETTINGS, probe(clip).duration)
    rgba = np.asarray(Image.open(card.path).convert("RGBA")).astype(int)
    h, w = rgba.shape[:2]
    opaque = rgba[..., 3] == 255
    region = frame[place.y:place.y + h, place.x:place.x + w]
    assert np.abs(region[opaque] - rgba[..., :3][opaque]).mean() < 6
    # the caption: white text with a dark outline low in the safe zone, none elsewhere
    safe = SETTINGS.safe_zone
    band = frame[1000:1920 - safe.bottom + 5]
    white = (band.min(axis=-1) > 220).sum()
    assert white > 1500, white
    assert (frame[1920 - safe.bottom + 40:].min(axis=-1) > 220).sum() == 0


@pytest.mark.parametrize("kind", ["hlg", "pq"])
def test_odd_sized_full_range_444_clips_come_out_right(tmp_path: Path, kind: str) -> None:
    """Not what phones write (4:2:0, even sides, TV range), but a camera or an editor may: the
    chain brings such a clip to 4:2:0 TV range and even sides (one column and row fewer) first."""
    trc = TRC[kind]
    clip = tmp_path / f"odd-{kind}.mkv"
    run("-f", "lavfi", "-i", "smptehdbars=s=641x361:r=30:d=0.2",
        "-vf", f"format=yuv444p,zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t={trc}:m=bt2020nc:p=bt2020:r=pc:npl=203,"
               "format=yuv444p10le",
        "-c:v", "ffv1", "-color_primaries", "bt2020", "-color_trc", trc, "-colorspace", "bt2020nc",
        "-color_range", "pc", str(clip))
    reference = first_frame(clip, "reference", tmp_path, pix_fmt="yuv444p")  # 4:2:0 needs even sides
    mapped = first_frame(clip, "lut", tmp_path)
    assert reference.shape == (361, 641, 3) and mapped.shape == (360, 640, 3)
    error = delta_e(mapped, reference[:360, :640])
    assert error.mean() < 3, error.mean()


def test_a_damaged_cache_file_is_made_again(_own_cache: Path, tmp_path: Path) -> None:
    spec = LutSpec("arib-std-b67", "bt2020", "mobius")
    path = lut_file(spec, tmp_path)
    assert path == cache_file(spec, ffmpeg_path()) and path.is_relative_to(_own_cache)
    assert valid_lut(path)
    good = path.read_bytes()
    lines = good.decode().splitlines()
    assert lines[1] == "LUT_3D_SIZE 64" and len(lines) == 2 + 64**3
    assert not list(path.parent.glob(".*partial*"))  # written atomically: no temp left
    for damage in (good[: len(good) // 2], good.replace(b"0.5", b"0.6", 1), b"", b"\xff\xfe garbage"):
        path.write_bytes(damage)
        assert not valid_lut(path)
        assert lut_file(spec, tmp_path) == path
        assert path.read_bytes() == good
    path.unlink()
    assert lut_file(spec, tmp_path).read_bytes() == good  # missing: made again


def test_an_unwritable_cache_falls_back_to_the_work_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(blocked))
    work = tmp_path / "work"
    work.mkdir()
    spec = LutSpec("smpte2084", "bt2020", "mobius")
    path = lut_file(spec, work)
    assert path.parent == work and valid_lut(path)


def test_the_lut_name_in_the_graph_is_fixed_and_plain() -> None:
    assert LutSpec("arib-std-b67", "bt2020", "mobius").work_name == "tonemap-arib-std-b67-bt2020-mobius.cube"
    odd = LutSpec("arib-std-b67", "bt2020:x='y'", "mobius").work_name
    assert odd.startswith("tonemap-") and odd.endswith(".cube") and all(c.isalnum() or c in "-." for c in odd)
    assert lut_spec("smpte2084", "", "hable") == LutSpec("smpte2084", "bt2020", "hable")
