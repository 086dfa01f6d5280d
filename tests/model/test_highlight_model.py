"""With real speech: the word highlighted in the burn-in ASS is the word festival was speaking."""

from __future__ import annotations

import difflib
from pathlib import Path

import pysubs2
import pytest

from pipeline.captions.write import layout_cues, write_ass
from pipeline.config import load_settings
from pipeline.speech.transcribe import get_transcriber, load_audio, options_from_settings
from tests.model.test_transcribe_model import SPOKEN, normalise
from tests.unit.test_captions_ass import HIGHLIGHT_OFF, HIGHLIGHT_ON, OUR_TAGS, event_at, highlighted

pytestmark = pytest.mark.model

SETTINGS = load_settings()


def test_highlighted_word_is_the_spoken_word(tmp_path: Path) -> None:
    options = options_from_settings(SETTINGS.transcribe)
    model = get_transcriber(options)
    checked = agreed = 0
    for fixture in SPOKEN:
        transcript = model.transcribe(load_audio(fixture.path), options)
        cues = layout_cues(transcript, SETTINGS.captions, 1080, SETTINGS.safe_zone)
        path = tmp_path / f"{fixture.name}.ass"
        write_ass(cues, path, SETTINGS.captions, (1080, 1920), SETTINGS.safe_zone)
        subs = pysubs2.load(str(path))
        # Compare only words the recogniser got right: which one is lit while festival says it?
        ref = [normalise(w["word"]) for w in fixture.words]
        hyp = [normalise(w.word) for w in transcript.words]
        matcher = difflib.SequenceMatcher(None, ref, hyp, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                truth = fixture.words[block.a + k]
                active = event_at(subs, (truth["start"] + truth["end"]) / 2)
                if len(active) != 1:
                    continue
                lit = highlighted(active[0].text, HIGHLIGHT_ON, HIGHLIGHT_OFF)
                tokens = OUR_TAGS.sub("", active[0].text).replace("\\N", " ").split(" ")
                checked += 1
                agreed += bool(lit) and normalise(tokens[lit[0]].rstrip("-")) == ref[block.a + k]
    assert checked >= 40
    assert agreed / checked >= 0.9, (agreed, checked)  # 69 of 69 when written
