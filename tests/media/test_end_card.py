"""The help-resources end card in real renders: when it comes, how long, what it shows, captions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.captions import read_captions
from pipeline.card import draw_end_card
from pipeline.config import load_settings
from pipeline.reply import ReplyJob, make_reply
from pipeline.types import Comment
from pipeline.video import decode_audio
from tests.conftest import frame_at, make_clip, probe_output

pytestmark = pytest.mark.media

CARD_SECONDS = 1.5
SETTINGS = load_settings().with_values(end_card={"duration": CARD_SECONDS, "fade": 0.3})
SELF_HARM = Comment("en jaksa elää enää, haluan kuolla")
QUESTION = Comment("Mitä tapahtuu lastensuojeluilmoituksen jälkeen?")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("end") / "clip.mp4", size=(360, 640), seconds=2.0)


def srt(path: Path, *cues: tuple[float, float, str]) -> Path:
    def stamp(t: float) -> str:
        return f"00:00:{int(t):02d},{round((t % 1) * 1000):03d}"

    path.write_text("".join(f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n\n" for i, (a, b, text) in enumerate(cues, 1)),
                    encoding="utf-8")
    return path


def reply(clip: Path, out: Path, comment: Comment, settings=SETTINGS, **job: object):  # type: ignore[no-untyped-def]
    return make_reply(ReplyJob(clip=clip, comment=comment, output=out, **job), settings)  # type: ignore[arg-type]


def bubble_difference(frame: np.ndarray, settings=SETTINGS) -> float:  # type: ignore[no-untyped-def]
    """Mean absolute difference over the opaque bubble of the end card PNG drawn alone."""
    png = np.asarray(draw_end_card(settings))
    opaque = png[:, :, 3] == 255
    return float(np.abs(frame[opaque].astype(int) - png[:, :, :3][opaque].astype(int)).mean())


def test_auto_adds_it_for_a_self_harm_comment(clip: Path, tmp_path: Path) -> None:
    result = reply(clip, tmp_path / "o.mp4", SELF_HARM, captions="none")
    assert any("end card" in w and "self-harm" in w for w in result.warnings)
    info = probe_output(result.output)
    assert info["duration"] == pytest.approx(2.0 + CARD_SECONDS, abs=0.05)  # grows by exactly the card
    # the last frame shows the card as drawn alone (compared where the bubble is opaque)
    assert bubble_difference(frame_at(result.output, 2.0 + CARD_SECONDS - 0.05)) < 4.0
    # before it: the clip, not the card
    assert bubble_difference(frame_at(result.output, 1.0)) > 30.0
    # the clip's sound ends with the clip: silence under the card
    samples = decode_audio(result.output, 48000, "stereo")
    assert float(np.abs(samples[:, int(2.3 * 48000):]).max()) < 1e-3
    assert float(np.abs(samples[:, : int(1.5 * 48000)]).max()) > 0.05


def test_spoken_self_harm_adds_it_and_the_captions_end_before_it(clip: Path, tmp_path: Path) -> None:
    captions = srt(tmp_path / "c.srt", (0.2, 1.0, "Joku kirjoitti"), (1.0, 4.0, "et en jaksa elää enää"))
    result = reply(clip, tmp_path / "o.mp4", QUESTION, captions=str(captions), sidecar=True)
    assert any("the captions" in w for w in result.warnings)
    assert probe_output(result.output)["duration"] == pytest.approx(2.0 + CARD_SECONDS, abs=0.05)
    burnt = read_captions(result.output.with_suffix(".srt"), SETTINGS.captions, 1080, SETTINGS.safe_zone)
    assert burnt and max(c.end for c in burnt) <= 2.0 + 1e-3


def test_overlay_style_covers_the_last_seconds_and_the_captions_stop_before(clip: Path, tmp_path: Path) -> None:
    settings = SETTINGS.with_values(end_card={"style": "overlay", "duration": 1.0})
    captions = srt(tmp_path / "c.srt", (0.1, 1.9, "en jaksa elää enää"))
    result = reply(clip, tmp_path / "o.mp4", QUESTION, settings, captions=str(captions), sidecar=True)
    assert probe_output(result.output)["duration"] == pytest.approx(2.0, abs=0.05)  # no longer
    burnt = read_captions(result.output.with_suffix(".srt"), settings.captions, 1080, settings.safe_zone)
    assert max(c.end for c in burnt) <= 1.0 + 1e-3
    assert bubble_difference(frame_at(result.output, 1.95), settings) < 4.0


def test_plain_question_gets_none_and_never_always_are_obeyed(clip: Path, tmp_path: Path) -> None:
    plain = reply(clip, tmp_path / "plain.mp4", QUESTION, captions="none")
    assert probe_output(plain.output)["duration"] == pytest.approx(2.0, abs=0.05)
    assert not any("end card" in w for w in plain.warnings)
    never = reply(clip, tmp_path / "never.mp4", SELF_HARM, captions="none", end_card="never")
    assert probe_output(never.output)["duration"] == pytest.approx(2.0, abs=0.05)
    assert any("never" in w for w in never.warnings)
    always = reply(clip, tmp_path / "always.mp4", QUESTION, captions="none", end_card="always")
    assert probe_output(always.output)["duration"] == pytest.approx(2.0 + CARD_SECONDS, abs=0.05)
