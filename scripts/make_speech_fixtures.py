#!/usr/bin/env python3
"""Synthesise the Finnish speech fixtures in tests/fixtures/speech/ with festival.

Needs Debian's festival and its Finnish voices (the only thing here that tests cannot make
on the fly):

    apt-get install festival festvox-suopuhe-lj festvox-suopuhe-mv

For each text it writes NAME.flac (16 kHz mono, 16 bit) and NAME.json:
{"text": ..., "voice": ..., "words": [{"word", "start", "end"}]}, where the word times are
festival's own (its utterance's Word relation: "word_start" / "word_end", the times of the
word's first and last phone), so tests can check the recogniser's word times against the
truth. It also writes one clip with no speech (quiet noise and mains hum) and an empty
"words" list.

The texts are what a social worker might say in a TikTok reply: spoken style, long compounds,
numbers written as words (as they are said). They are not chosen to be easy.

Usage: .venv/bin/python scripts/make_speech_fixtures.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "fixtures" / "speech"
RATE = 16000

LJ = "voice_suo_fi_lj_diphone"
MV = "voice_hy_fi_mv_diphone"

TEXTS: dict[str, tuple[str, str]] = {
    "ilmoitus": (
        LJ,
        "Lastensuojeluilmoituksen voi tehdä kuka tahansa, "
        "ja siihen vastataan seitsemän arkipäivän kuluessa.",
    ),
    "huostaanotto": (
        MV,
        "Moni kysyi, mitä huostaanotto tarkoittaa. Se on viimeinen keino, "
        "ja ensin kokeillaan avohuollon tukitoimia, kuten perhetyötä.",
    ),
    "sijoitus": (
        LJ,
        "Kiireellinen sijoitus voi kestää enintään kolmekymmentä vuorokautta, "
        "ja sinä aikana sosiaalityöntekijä selvittää lapsen tilanteen.",
    ),
    "jalkihuolto": (
        MV,
        "Jälkihuolto jatkuu siihen asti, kun nuori täyttää kaksikymmentäviisi vuotta, "
        "ja tukihenkilö auttaa vaikka asunnon etsimisessä.",
    ),
    "paivystys": (
        LJ,
        "Jos sulla on huoli kaverista illalla tai viikonloppuna, niin soita sosiaalipäivystykseen. "
        "Lapsen etu menee aina ensin.",
    ),
    "suunnitelma": (
        MV,
        "Asiakassuunnitelma tehdään yhdessä perheen kanssa, "
        "ja sitä tarkistetaan vähintään kerran vuodessa.",
    ),
}
SILENT_NAME = "hiljaisuus"
SILENT_SECONDS = 3.0

_SCHEME = """
({voice})
(set! utt (Utterance Text "{text}"))
(utt.synth utt)
(mapcar
  (lambda (w)
    (format t "WORD\\t%s\\t%f\\t%f\\n" (item.name w) (item.feat w "word_start") (item.feat w "word_end")))
  (utt.relation.items utt 'Word))
(utt.save.wave utt "{wav}" 'riff)
"""


def synthesise(voice: str, text: str, work: Path) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Run festival on `text`; returns 16 kHz float audio and festival's (word, start, end)."""
    wav = work / "out.wav"
    script = work / "say.scm"
    # festival's Finnish voices read ISO-8859-1; the scheme file carries the text.
    script.write_bytes(_SCHEME.format(voice=voice, text=text.replace('"', ""), wav=wav).encode("iso-8859-1"))
    proc = subprocess.run(["festival", "-b", str(script)], capture_output=True, check=True)
    words = []
    for line in proc.stdout.decode("iso-8859-1").splitlines():
        if line.startswith("WORD\t"):
            _, name, start, end = line.split("\t")
            words.append((name, float(start), float(end)))
    return read_16k(wav), words


def read_16k(path: Path) -> np.ndarray:
    """Decode any audio file to 16 kHz mono float32 with PyAV."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


def write_flac(path: Path, audio: np.ndarray) -> None:
    """Write 16 kHz mono 16-bit FLAC."""
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=RATE, layout="mono")
        stream.format = "s16"
        step = 4096
        for i in range(0, len(pcm), step):
            frame = av.AudioFrame.from_ndarray(pcm[None, i : i + step], format="s16", layout="mono")
            frame.rate = RATE
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def quiet_room(seconds: float, seed: int = 7) -> np.ndarray:
    """Room tone: faint noise plus a 50 Hz hum, no speech (about -50 dBFS)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    noise = rng.normal(0.0, 0.002, t.size)
    hum = 0.002 * np.sin(2 * np.pi * 50 * t)
    return (noise + hum).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if shutil.which("festival") is None:
        print("festival not found: apt-get install festival festvox-suopuhe-lj festvox-suopuhe-mv", file=sys.stderr)
        return 1
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (voice, text) in TEXTS.items():
            audio, fest_words = synthesise(voice, text, Path(tmp))
            tokens = text.split()
            if len(tokens) != len(fest_words):
                raise SystemExit(f"{name}: festival made {len(fest_words)} words of {len(tokens)}: {fest_words}")
            # Keep the written word (with its punctuation) and festival's times.
            words = [
                {"word": token, "start": round(start, 3), "end": round(end, 3)}
                for token, (_, start, end) in zip(tokens, fest_words, strict=True)
            ]
            # Half a second of lead-in and tail, as a phone clip would have.
            pad = np.zeros(RATE // 2, dtype=np.float32)
            audio = np.concatenate([pad, audio, pad])
            for w in words:
                w["start"] = round(w["start"] + 0.5, 3)
                w["end"] = round(w["end"] + 0.5, 3)
            write_flac(out / f"{name}.flac", audio)
            meta = {"text": text, "voice": voice, "duration": round(len(audio) / RATE, 3), "words": words}
            (out / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            print(f"{name}: {len(audio) / RATE:.1f} s, {len(words)} words")
        silent = quiet_room(SILENT_SECONDS)
        write_flac(out / f"{SILENT_NAME}.flac", silent)
        meta = {"text": "", "voice": "", "duration": SILENT_SECONDS, "words": []}
        (out / f"{SILENT_NAME}.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        print(f"{SILENT_NAME}: {SILENT_SECONDS:.1f} s, no speech")
    return 0


if __name__ == "__main__":
    sys.exit(main())
