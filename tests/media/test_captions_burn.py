"""Captions burned in the same single filtergraph, from files in awkward folders; sidecars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.captions.write import read_captions
from pipeline.config import load_settings
from pipeline.reply import ReplyJob, ReplyResult, make_reply
from pipeline.types import Comment
from tests.conftest import frame_at, make_clip, probe_output

pytestmark = pytest.mark.media

SETTINGS = load_settings().with_values(reframe={"mode": "fit"})
SRT = """1
00:00:00,200 --> 00:00:01,800
Hei kaikki! {\\pos(1,1)} Lastensuojelu\\N auttaa.

2
00:00:01,900 --> 00:00:02,900
<font color="red">Toinen</font> rivi
"""
AWKWARD = "it's: a, [test] ä 😀"


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("caps") / AWKWARD
    folder.mkdir()
    make_clip(folder / "klippi ä'.mp4", size=(640, 360), seconds=3, source="color=c=0x336699:")
    (folder / "teksti: 'a', ä.srt").write_text(SRT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def burned(awkward: Path) -> tuple[ReplyResult, ReplyResult]:
    """The clip rendered without captions and with the caption file (plus sidecars), once for
    the tests that look at either: each asks for it, so none depends on another having run."""
    clip = awkward / "klippi ä'.mp4"
    plain = make_reply(ReplyJob(clip, Comment("moi"), awkward / "ilman.mp4", captions="none"), SETTINGS)
    result = make_reply(ReplyJob(clip, Comment("moi"), awkward / "kanssa, ä.mp4",
                                 captions=str(awkward / "teksti: 'a', ä.srt"), sidecar=True), SETTINGS)
    return plain, result


def test_caption_file_in_an_awkward_folder_is_burned(burned: tuple[ReplyResult, ReplyResult]) -> None:
    plain, result = burned
    assert result.cues == 2 and plain.cues == 0
    info = probe_output(result.output)
    assert (info["width"], info["height"], info["codec"]) == (1080, 1920, "h264")
    with_caps, without = frame_at(result.output, 1.0).astype(int), frame_at(plain.output, 1.0).astype(int)
    safe = SETTINGS.safe_zone
    band = (slice(1000, 1920 - safe.bottom + 5), slice(0, 1080))
    diff = np.abs(with_caps[band] - without[band]).max(axis=-1)
    assert (diff > 100).sum() > 2000  # white text with a dark outline
    rows = np.where((diff > 100).any(axis=1))[0] + 1000
    assert rows.max() <= 1920 - safe.bottom + 5  # above TikTok's bottom band
    cols = np.where((diff > 100).any(axis=0))[0]
    assert cols.min() >= safe.left - 5 and cols.max() <= 1080 - safe.right + 5  # clear of the buttons
    # the card's region is untouched by the captions
    assert np.abs(with_caps[250:600] - without[250:600]).mean() < 1.5
    # after the last cue, nothing is drawn
    assert np.abs(frame_at(result.output, 2.95).astype(int)[band] - frame_at(plain.output, 2.95).astype(int)[band]).max() < 60


def test_sidecars_are_written_and_read_back(awkward: Path, burned: tuple[ReplyResult, ReplyResult]) -> None:
    out = burned[1].output
    assert out == awkward / "kanssa, ä.mp4" and out.is_file()
    srt, vtt = out.with_suffix(".srt"), out.with_suffix(".vtt")
    assert srt.is_file() and vtt.is_file()
    for path in (srt, vtt):
        cues = read_captions(path, SETTINGS.captions, 1080, SETTINGS.safe_zone)
        assert [round(c.start, 2) for c in cues] == [0.2, 1.9]
        assert "Lastensuojelu" in cues[0].text and "Toinen rivi" in cues[1].text
        assert "<font" not in cues[1].text
    assert not list(awkward.glob(".*partial*"))


def test_no_audio_with_auto_captions_warns_and_renders(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "mykkä.mp4", size=(320, 240), seconds=1, audio=False)
    result = make_reply(ReplyJob(clip, Comment("moi"), tmp_path / "o.mp4", captions="auto"), SETTINGS,
                        transcribe=lambda media: pytest.fail("must not transcribe a clip without audio"))
    assert result.cues == 0 and any("no audio" in w for w in result.warnings)
