"""The help-resources end card without ffmpeg: when it is added, where it goes, what it draws."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from pipeline.card import draw_end_card
from pipeline.config import HelpResource, load_settings
from pipeline.errors import ConfigError
from pipeline.reply import end_card_decision
from pipeline.types import CardImage, Cue, MediaInfo
from pipeline.video.plan import captions_end, end_card_placement, make_plan
from pipeline.video.render import build_args

SETTINGS = load_settings()
MEDIA = MediaInfo(path=Path("/clips/in.mp4"), duration=10.0, width=1080, height=1920, rotation=0,
                  fps=Fraction(30), has_audio=True, audio_rate=48000)
CARD = CardImage(Path("/work/card.png"), 904, 300, margin=42)
END = CardImage(Path("/work/end_card.png"), 1080, 1920)
SELF_HARM = "en jaksa elää enää, haluan kuolla"
QUESTION = "Mitä tapahtuu lastensuojeluilmoituksen jälkeen?"


def cue(text: str, start: float = 0.0, end: float = 2.0) -> Cue:
    return Cue(start, end, (text,))


def test_auto_adds_it_for_a_self_harm_comment_and_says_so() -> None:
    added, warnings = end_card_decision("auto", SELF_HARM, [])
    assert added
    assert len(warnings) == 1 and "end card" in warnings[0] and "the comment" in warnings[0]
    assert "self-harm" in warnings[0] and "kuolla" not in warnings[0]  # categories, never the words


def test_auto_adds_it_for_self_harm_said_in_the_captions() -> None:
    added, warnings = end_card_decision("auto", QUESTION, [cue("no mä en jaksa elää enää"), cue("moi", 2, 3)])
    assert added and "the captions" in warnings[0]


def test_auto_leaves_a_plain_question_alone() -> None:
    assert end_card_decision("auto", QUESTION, [cue("hyvä kysymys")]) == (False, [])


def test_never_and_always_are_obeyed() -> None:
    added, warnings = end_card_decision("never", SELF_HARM, [])
    assert not added and "never" in warnings[0]
    assert end_card_decision("always", QUESTION, []) == (True, [])


def test_appended_card_makes_the_video_longer_by_its_length() -> None:
    plan = make_plan(MEDIA, SETTINGS, Path("/o.mp4"), card=CARD, end_card=END)
    ending = plan.end_card
    assert ending is not None and ending.style == "card"
    assert (ending.start, ending.length) == (10.0, SETTINGS.end_card.duration)
    assert plan.output_duration == 10.0 + SETTINGS.end_card.duration
    assert plan.card is not None and plan.card.end == pytest.approx(10.0 + ending.fade)  # fades out under it
    assert captions_end(10.0, SETTINGS, end_card=True) == 10.0
    args = build_args(plan, Path("/o.mp4"))
    graph = args[args.index("-filter_complex") + 1]
    assert args.count("-filter_complex") == 1
    assert "trim=duration=10.000" in graph and "tpad=stop_duration=4.000:stop_mode=clone" in graph
    assert "atrim=duration=10.000" in graph  # the clip's sound ends with it; apad gives silence
    assert "gte(t\\,10.0)" in graph and f"fade=alpha=1:d={ending.fade}:st=10.0:t=in" in graph
    assert args[args.index("-t", args.index("-filter_complex")) + 1] == f"{10.0 + ending.length:.3f}"
    assert "/work/end_card.png" in args  # an -i input, not in the graph


def test_overlay_style_keeps_the_length_and_ends_captions_and_card_before_it() -> None:
    settings = SETTINGS.with_values(end_card={"style": "overlay", "duration": 3.0})
    plan = make_plan(MEDIA, settings, Path("/o.mp4"), card=CARD, end_card=END)
    assert plan.output_duration == 10.0 and plan.end_card is not None
    assert (plan.end_card.start, plan.end_card.length) == (7.0, 3.0)
    assert plan.card is not None and plan.card.end == 7.0
    assert captions_end(10.0, settings, end_card=True) == 7.0
    args = build_args(plan, Path("/o.mp4"))
    graph = args[args.index("-filter_complex") + 1]
    assert "trim=duration" not in graph and "gte(t\\,7.0)" in graph  # no held frame: over the clip
    short = end_card_placement(END, settings, 2.0)
    assert (short.start, short.length) == (0.0, 2.0)  # a clip shorter than the card: all of it


def test_no_end_card_leaves_the_graph_as_it_was() -> None:
    plan = make_plan(MEDIA, SETTINGS, Path("/o.mp4"), card=CARD)
    assert plan.end_card is None and plan.output_duration == plan.duration
    args = build_args(plan, Path("/o.mp4"))
    assert "trim=duration" not in args[args.index("-filter_complex") + 1] and "gte(t" not in " ".join(args)


def test_resources_come_from_config_and_can_be_replaced(tmp_path: Path) -> None:
    contacts = [r.contact for r in SETTINGS.end_card.resources]
    assert contacts[:2] == ["112", "116 111"] and any("sekasin" in c.lower() for c in contacts)
    user = tmp_path / "mine.toml"
    user.write_text('[end_card]\nresources = [{ name = "Oma sosiaalityöntekijä", contact = "09 123 4567" }]\n')
    mine = load_settings(user).end_card.resources
    assert mine == (HelpResource("Oma sosiaalityöntekijä", "09 123 4567", ""),)
    assert "check" in (Path(__file__).parents[2] / "config" / "default.toml").read_text().lower()


@pytest.mark.parametrize(("toml", "needle"), [
    ("resources = []", "empty"),
    ('resources = [{ name = "x" }]', "needs a name and a contact"),
    ('resources = [{ name = "x", contact = "1", phone = "2" }]', "unknown key phone"),
    ('resources = ["112"]', "must be a table"),
    ('mode = "sometimes"', "end_card.mode"),
])
def test_bad_resources_are_config_errors(tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[end_card]\n{toml}\n")
    with pytest.raises(ConfigError, match=needle):
        load_settings(path)


def test_the_card_is_drawn_inside_the_safe_zone_over_a_scrim() -> None:
    image = np.asarray(draw_end_card(SETTINGS))
    assert image.shape == (1920, 1080, 4)
    safe = SETTINGS.safe_zone
    opaque = np.argwhere(image[:, :, 3] == 255)
    top, left = opaque.min(axis=0)
    bottom, right = opaque.max(axis=0)
    assert top >= safe.top and bottom < 1920 - safe.bottom
    assert left >= safe.left and right < 1080 - safe.right
    assert image[10, 10, 3] == round(255 * SETTINGS.end_card.scrim_opacity)  # the clip shows, dimmed


def test_different_resources_draw_different_pixels_and_long_finnish_words_wrap() -> None:
    long_name = "Lastensuojelun sosiaalipäivystys ja kriisipuhelinpalvelu Pohjois-Pohjanmaalla"
    settings = SETTINGS.with_values(end_card={"resources": [{"name": long_name, "contact": "0800 12345"}]})
    a, b = np.asarray(draw_end_card(SETTINGS)), np.asarray(draw_end_card(settings))
    assert a.shape == b.shape and (a != b).any()
    ink = np.argwhere(b[:, :, 3] == 255)
    assert ink[:, 1].max() < 1080 - SETTINGS.safe_zone.right  # wrapped, not cut off


def test_too_many_resources_is_a_config_error() -> None:
    many = [{"name": f"Palvelu {i}", "contact": f"0800 {i:05d}", "hours": "aina"} for i in range(12)]
    with pytest.raises(ConfigError, match="safe zone"):
        draw_end_card(SETTINGS.with_values(end_card={"resources": many}))
