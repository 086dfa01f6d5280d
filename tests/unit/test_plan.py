"""The plan makes every choice without ffmpeg; build_args turns it into one ffmpeg argv."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.errors import InputError, OutputError
from pipeline.types import CardImage, Comment, MediaInfo
from pipeline.video.plan import card_content, make_plan, output_fps, place_card
from pipeline.video.render import build_args, check_output_path

SETTINGS = load_settings()
MEDIA = MediaInfo(path=Path("/clips/in.mp4"), duration=10.0, width=1920, height=1080, rotation=0,
                  fps=Fraction(30), has_audio=True, audio_rate=44100)
CARD = CardImage(Path("/work/card.png"), 904, 300, margin=42)


def test_card_content_names_the_user_only_when_asked() -> None:
    named = card_content(Comment("moi", "@liisa"), SETTINGS, show_user=True)
    assert named.header == "Vastaa käyttäjän @liisa kommenttiin" and named.avatar_letter == "L"
    anonymous = card_content(Comment("moi", "liisa"), SETTINGS, show_user=False)
    assert "liisa" not in anonymous.header and anonymous.avatar is None and anonymous.avatar_letter == ""
    assert anonymous.header == SETTINGS.card.anonymous_header


def test_card_is_placed_inside_the_safe_zone() -> None:
    place = place_card(CARD, SETTINGS, 10.0)
    safe = SETTINGS.safe_zone
    bubble_left, bubble_top = place.x + CARD.margin, place.y + CARD.margin
    bubble_right = bubble_left + CARD.width - 2 * CARD.margin
    assert bubble_left >= safe.left and bubble_right <= 1080 - safe.right
    assert bubble_top >= safe.top
    assert (place.start, place.end) == (0.0, 10.0)
    timed = place_card(CARD, SETTINGS.with_values(card={"duration": 4.0}), 10.0)
    assert timed.end == 4.0


def test_card_too_tall_is_an_error() -> None:
    with pytest.raises(InputError, match="safe zone"):
        place_card(CardImage(Path("c.png"), 904, 1500, margin=42), SETTINGS, 10.0)


@pytest.mark.parametrize(
    ("fps", "vfr", "nominal", "expected"),
    [(Fraction(30), False, None, Fraction(30)), (Fraction(120), False, None, Fraction(60)),
     (Fraction(30000, 1001), False, None, Fraction(30000, 1001)),
     (Fraction(2187, 73), True, Fraction(30), Fraction(30)), (Fraction(2987, 100), True, None, Fraction(30000, 1001))],
)
def test_output_fps(fps: Fraction, vfr: bool, nominal: Fraction | None, expected: Fraction) -> None:
    media = dataclasses.replace(MEDIA, fps=fps, variable_frame_rate=vfr, nominal_fps=nominal)
    assert output_fps(media, 60) == expected


def test_loudness_gain_and_off_switch() -> None:
    plan = make_plan(MEDIA, SETTINGS, Path("/out/o.mp4"), loudness_lufs=-20.0)
    assert plan.audio.gain_db == pytest.approx(6.0)
    off = make_plan(MEDIA, SETTINGS.with_values(audio={"normalize": False}), Path("/o.mp4"), loudness_lufs=-20.0)
    assert off.audio.gain_db is None
    silent = make_plan(dataclasses.replace(MEDIA, has_audio=False), SETTINGS, Path("/o.mp4"))
    assert not silent.audio.has_source_audio


@pytest.mark.parametrize("span", [(5.0, 4.0), (-1.0, 2.0), (11.0, 12.0), (3.0, 3.1)])
def test_bad_spans(span: tuple[float, float]) -> None:
    with pytest.raises(InputError):
        make_plan(MEDIA, SETTINGS, Path("/o.mp4"), span=span)


def test_span_is_clamped_to_the_clip() -> None:
    plan = make_plan(MEDIA, SETTINGS, Path("/o.mp4"), span=(8.0, 20.0))
    assert plan.trim_start == 8.0 and plan.duration == pytest.approx(2.0)


def test_hdr_gets_tone_mapping() -> None:
    hdr = dataclasses.replace(MEDIA, color_transfer="arib-std-b67", bit_depth=10)
    assert make_plan(hdr, SETTINGS, Path("/o.mp4")).tonemap == SETTINGS.reframe.tonemap
    assert make_plan(MEDIA, SETTINGS, Path("/o.mp4")).tonemap is None
    # the LUT lookups run in slices on every core; SDR filters get half of them
    assert make_plan(hdr, SETTINGS, Path("/o.mp4"), cores=4).encoder.filter_threads == 4
    assert make_plan(MEDIA, SETTINGS, Path("/o.mp4"), cores=4).encoder.filter_threads == 2


@pytest.mark.parametrize("reframe", ["blur", "crop", "fit"])
def test_hdr_graph_scales_a_large_clip_down_before_the_lut(reframe: str) -> None:
    """A 4K HLG clip is brought to the canvas's size in 10-bit before the lookups; a clip no
    larger than the canvas is looked up as it is. The LUT is named by a fixed plain name."""
    settings = SETTINGS.with_values(reframe={"mode": reframe})
    for size, shrunk in (((2160, 3840), True), ((1080, 1920), False), ((640, 360), False)):
        hdr = dataclasses.replace(MEDIA, width=size[0], height=size[1], color_transfer="arib-std-b67",
                                  color_primaries="bt2020", bit_depth=10)
        args = build_args(make_plan(hdr, settings, Path("/o.mp4")), Path("/o.mp4"))
        graph = args[args.index("-filter_complex") + 1]
        head = graph.split("lut3d=")[0]
        assert graph.count("lut3d=file=tonemap-arib-std-b67-bt2020-mobius.cube") == 1
        assert "npl=" not in graph and "tonemap=" not in graph  # not the float chain
        assert ("h=1920" in head and "w=1080" in head) == shrunk, head
        assert "format=gbrp16le" in head and head.startswith("[0:v]fps=")


@pytest.mark.parametrize(("size", "rotation", "shown"), [
    ((1080, 1920), 0, "crop"), ((720, 1280), 0, "crop"), ((1920, 1080), 90, "crop"),  # a phone's 9:16
    ((1080, 1910), 0, "crop"),  # 9:16 give or take a few rows: cropped, not framed in a thin blur
    ((1920, 1080), 0, "blur"), ((1080, 1350), 0, "blur"), ((1080, 1080), 0, "blur"),
])
def test_blur_of_a_clip_that_fills_the_canvas_is_a_crop(size: tuple[int, int], rotation: int, shown: str) -> None:
    """The blurred background would be hidden behind the picture: it is not made at all."""
    media = dataclasses.replace(MEDIA, width=size[0], height=size[1], rotation=rotation)
    plan = make_plan(media, SETTINGS.with_values(reframe={"mode": "blur"}), Path("/o.mp4"))
    assert plan.reframe == "blur" and plan.picture_reframe == shown
    graph = build_args(plan, Path("/o.mp4"))
    assert any("boxblur" in a for a in graph) == (shown == "blur")
    fit = make_plan(media, SETTINGS.with_values(reframe={"mode": "fit"}), Path("/o.mp4"))
    assert fit.picture_reframe == "fit"  # the bars of `fit` are the user's choice, however thin


def test_hdr_graph_converts_nothing_to_rgb() -> None:
    """The LUT is indexed by the clip's own Y'CbCr, on a half-size picture; the full-size luma
    gets the LUT's change scaled up: no zscale, one lookup."""
    hdr = dataclasses.replace(MEDIA, width=1080, height=1920, color_transfer="smpte2084",
                              color_primaries="bt2020", bit_depth=10)
    args = build_args(make_plan(hdr, SETTINGS, Path("/o.mp4")), Path("/o.mp4"))
    graph = args[args.index("-filter_complex") + 1]
    assert "zscale" not in graph and graph.count("lut3d=") == 1
    assert "scale=iw/2:ih/2" in graph and "scale=iw*2:ih*2" in graph and "blend=all_mode=grainmerge" in graph
    assert graph.count("mergeplanes=") == 2


EXPECTED_ARGS = [
    "ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "warning", "-progress", "pipe:1", "-nostats",
    "-filter_complex_threads", "1",
    "-t", "10.500", "-i", "/clips/in.mp4", "-i", "/work/card.png",
    "-filter_complex",
    "[0:v]fps=fps=30/1[s0];[s0]split=2[s1][s2];[s1]fps=fps=1.5[s3];"
    "[s3]scale=90:160:flags=fast_bilinear:force_original_aspect_ratio=increase[s4];[s4]crop=90:160[s5];"
    "[s5]boxblur=luma_power=2:luma_radius=10[s6];"
    "[s6]lutyuv=u=128+(val-128)*0.7:v=128+(val-128)*0.7:y=val*0.7[s7];"
    "[s7]scale=1080:1920:flags=bilinear[s8];[s8]fps=fps=30/1[s9];[s9]tpad=stop_duration=1:stop_mode=clone[s10];"
    "[s2]scale=1080:1920:force_divisible_by=2:force_original_aspect_ratio=decrease[s11];"
    "[s10][s11]overlay=eof_action=repeat:x=(W-w)/2:y=(H-h)/2[s12];[s12]setsar=1[s13];"
    "[1]format=yuva420p[s14];[s14]loop=loop=-1:size=1:start=0[s15];[s15]setpts=N/(30/1)/TB[s16];"
    "[s16]fade=alpha=1:d=0.3:st=0.0:t=in[s17];"
    "[s13][s17]overlay=enable=between(t\\,0.0\\,10.0):eof_action=repeat:eval=frame:shortest=1:x=33:"
    "y=258-40*pow(max(0\\,1-(t-0.0)/0.3)\\,2)[s18];"
    "[s18]ass=captions.ass:fontsdir=fonts[s19];[s19]format=yuv420p[s20];"
    "[s20]setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv[s21];"
    "[0:a]volume=6.0dB[s22];[s22]alimiter=attack=5:level=disabled:limit=0.8913:release=50[s23];"
    "[s23]aresample=48000[s24];[s24]apad[s25]",
    "-map", "[s21]", "-map", "[s25]",
    "-ac", "2", "-acodec", "aac", "-ar", "48000", "-b:a", "160k", "-color_primaries", "bt709",
    "-color_range", "tv", "-color_trc", "bt709", "-colorspace", "bt709", "-crf", "20", "-map_chapters", "-1",
    "-map_metadata", "-1", "-movflags", "+faststart", "-pix_fmt", "yuv420p", "-preset", "veryfast",
    "-profile:v", "high", "-t", "10.000", "-vcodec", "libx264", "/out/o.mp4",
]


def test_build_args_snapshot() -> None:
    """One process, one filtergraph; review changes to the graph here."""
    plan = make_plan(MEDIA, SETTINGS, Path("/out/o.mp4"), card=CARD, captions=Path("/tmp/x/whatever.ass"),
                     loudness_lufs=-20.0, cores=2)
    args = build_args(plan, Path("/out/o.mp4"))
    assert args == EXPECTED_ARGS
    assert args.count("-filter_complex") == 1


def test_user_text_and_paths_stay_out_of_the_filtergraph() -> None:
    odd = dataclasses.replace(MEDIA, path=Path("/clips/it's: a,[clip];ä 😀.mp4"))
    plan = make_plan(odd, SETTINGS, Path("/out/o.mp4"), card=CARD, captions=Path("/x/{\\pos(1,1)}.ass"))
    args = build_args(plan, Path("/out/o.mp4"))
    graph = args[args.index("-filter_complex") + 1]
    assert "clip" not in graph and "pos" not in graph and "ä" not in graph
    assert str(odd.path) in args  # passed as an -i input instead


def test_silent_clip_uses_anullsrc_input() -> None:
    plan = make_plan(dataclasses.replace(MEDIA, has_audio=False), SETTINGS, Path("/o.mp4"))
    args = build_args(plan, Path("/o.mp4"))
    assert "anullsrc=r=48000:cl=stereo" in args and "lavfi" in args


def test_output_may_not_be_the_input(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    with pytest.raises(OutputError, match="overwrite the input"):
        check_output_path(tmp_path / "." / "a.mp4", [clip])
    link = tmp_path / "b.mp4"
    link.symlink_to(clip)
    with pytest.raises(OutputError):
        check_output_path(link, [clip])
    with pytest.raises(OutputError, match=".mp4"):
        check_output_path(tmp_path / "a.avi", [clip])


def test_libass_gets_only_the_outline_fonts(tmp_path: Path) -> None:
    """The work folder's `fonts/` holds the fonts libass can draw with, not the colour emoji
    font (11 MB, unusable to libass), the licences or the README of the bundled folder."""
    from pipeline.config import FONTS_DIR
    from pipeline.video.render import ffmpeg_work_dir, outline_fonts

    names = {p.name for p in outline_fonts(FONTS_DIR)}
    assert {"NotoSans-Regular.ttf", "NotoSans-Bold.ttf"} <= names
    assert "NotoColorEmoji.ttf" not in names
    assert all(n.endswith(".ttf") for n in names)
    # an sfnt header naming a CFF table counts; a text file named .ttf does not
    own = tmp_path / "own"
    own.mkdir()
    (own / "Otf.otf").write_bytes(b"OTTO" + (1).to_bytes(2, "big") + bytes(6) + b"CFF " + bytes(12))
    (own / "Broken.ttf").write_text("not a font")
    (own / "notes.txt").write_text("x")
    assert [p.name for p in outline_fonts(own)] == ["Otf.otf"]

    captions = tmp_path / "c.ass"
    captions.write_text("[Script Info]\n", encoding="utf-8")
    plan = make_plan(MEDIA, SETTINGS, tmp_path / "o.mp4", card=CARD, captions=captions)
    assert plan.fonts_dir == FONTS_DIR
    with ffmpeg_work_dir(plan) as work:
        linked = sorted(p.name for p in (work / "fonts").iterdir())
        assert linked == sorted(names)
        assert all((work / "fonts" / n).resolve() == (FONTS_DIR / n).resolve() for n in linked)
        assert (work / "captions.ass").read_text(encoding="utf-8") == "[Script Info]\n"
