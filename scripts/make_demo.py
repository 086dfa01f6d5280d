"""Make the bundled demo clip `assets/demo/demo.mp4` (committed; run again only to change it).

Finnish speech from Debian's festival with the Finnish voice `suo_fi_lj_diphone`
(`apt-get install festival festvox-suopuhe-lj`), over a simple moving picture from ffmpeg's
`gradients` source, shot as a phone would: 720x1280 portrait, 30 fps. Kept under 2 MB.

    python scripts/make_demo.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "demo" / "demo.mp4"
TEXT = (
    "Moi kaikille! Tänään vastaamme kysymykseen lastensuojeluilmoituksesta. "
    "Ilmoituksen voi tehdä kuka tahansa, myös nimettömänä. "
    "Sosiaalityöntekijä selvittää tilanteen seitsemän arkipäivän kuluessa."
)
VOICE = "voice_suo_fi_lj_diphone"


def main() -> int:
    if not shutil.which("text2wave"):
        print("needs festival: apt-get install festival festvox-suopuhe-lj", file=sys.stderr)
        return 1
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as work:
        text = Path(work) / "text.txt"
        wav = Path(work) / "speech.wav"
        text.write_bytes(TEXT.encode("iso-8859-1"))  # festival's Finnish voices read Latin-1
        subprocess.run(["text2wave", "-eval", f"({VOICE})", "-o", str(wav), str(text)], check=True)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", "gradients=s=720x1280:r=30:speed=0.015:c0=0x2a6f97:c1=0xf4a261:"
                "c2=0x264653:c3=0xe9c46a:n=4",
                "-i", str(wav),
                "-af", "apad=pad_dur=0.8,adelay=500:all=1",
                "-shortest", "-c:v", "libx264", "-preset", "slow", "-crf", "30", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "64k", "-ar", "48000", "-ac", "1", "-movflags", "+faststart",
                str(OUT),
            ],
            check=True,
        )
    print(f"{OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
