"""Reply options end to end: card on screen for card.duration, spoken personal data in captions, music."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_settings
from pipeline.reply import ReplyJob, make_reply
from pipeline.types import Comment
from tests.conftest import frame_at, make_clip, run

pytestmark = pytest.mark.media

SETTINGS = load_settings().with_values(reframe={"mode": "fit"})


def test_card_shows_for_card_duration_only(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", size=(320, 240), seconds=3, source="color=c=0x204060:")
    settings = SETTINGS.with_values(card={"duration": 1.0})
    result = make_reply(ReplyJob(clip, Comment("Näkyy sekunnin"), tmp_path / "o.mp4", captions="none"), settings)
    assert result.card is not None
    bubble = frame_at(result.output, 0.6)[320:380, 150:800].astype(int)  # inside the bubble
    gone = frame_at(result.output, 2.0)[320:380, 150:800].astype(int)
    assert bubble.mean() > 220  # white card
    assert gone.mean() < 60  # the dark fit background again


def test_spoken_personal_data_is_reported_and_masked_on_request(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", size=(320, 240), seconds=3)
    srt = tmp_path / "puhe.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:02,500\nSoita numeroon 040 123 4567 heti\n", encoding="utf-8")
    kept = make_reply(ReplyJob(clip, Comment("moi"), tmp_path / "a.mp4", captions=str(srt), sidecar=True), SETTINGS)
    assert any("captions (not masked)" in w for w in kept.warnings)
    assert "040 123 4567" in (tmp_path / "a.srt").read_text(encoding="utf-8")
    masked = make_reply(ReplyJob(clip, Comment("moi"), tmp_path / "b.mp4", captions=str(srt), sidecar=True,
                                 mask_captions=True), SETTINGS)
    assert any("captions (masked)" in w for w in masked.warnings)
    assert all("040" not in w for w in masked.warnings)
    text = (tmp_path / "b.srt").read_text(encoding="utf-8")
    assert "040" not in text and "[puhelinnumero]" in text


@pytest.mark.model
def test_music_without_speech_gives_no_captions(tmp_path: Path) -> None:
    clip = tmp_path / "musiikki.mp4"
    run("-f", "lavfi", "-i", "testsrc2=s=320x240:d=6", "-f", "lavfi", "-i", "sine=f=220:d=6",
        "-f", "lavfi", "-i", "sine=f=277:d=6", "-f", "lavfi", "-i", "anoisesrc=d=6:c=pink:a=0.05",
        "-filter_complex", "[1][2][3]amix=inputs=3,volume=3,tremolo=f=2:d=0.7[a]", "-map", "0:v", "-map", "[a]",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(clip))
    result = make_reply(ReplyJob(clip, Comment("moi"), tmp_path / "o.mp4", captions="auto"), SETTINGS)
    assert result.cues == 0
    assert np.isfinite(result.media.duration)
