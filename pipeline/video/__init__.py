"""Video stage: a clip path -> `MediaInfo`; `MediaInfo` + cues + card + style -> `RenderPlan`
(pure) -> one ffmpeg filtergraph -> MP4 (atomic); any video -> a preflight `CheckReport`.
The only folder that runs ffmpeg.

- `media`: probe (PyAV) and audio decode; `loudness`: BS.1770 integrated loudness; `meter`: the
  same measured by ffmpeg in a child process while the card is drawn (what a render uses);
- `plan`: every choice of a render as a `RenderPlan` (pure), for one clip or several joined in
  order (`join_parts`, `make_joined_plan`); `render`: plan -> argv -> ffmpeg;
- `hdr`: HLG/PQ -> BT.709 through a 3D LUT made once from ffmpeg's float chain and cached;
- `sync`: two recordings of one conversation -> when the second started (`estimate_offset`, pure);
- `duet`: two lined-up recordings shown at once (A above B, or whoever speaks) over the time both cover (pure plan);
- `turns`: two lined-up tracks -> who speaks when (`find_turns`, pure);
- `check`: TikTok's upload rules and ours (`sossut check`, and warnings after a render);
- `ffmpeg`: which ffmpeg binary, and running it with progress; `lifetime`: it ends when we end.
"""

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_api

# Eager: the name `render` is also a submodule's; bound here it stays the function.
from pipeline.video.render import check_output_path, check_writable, render

if TYPE_CHECKING:
    from pipeline.video.check import Check, CheckReport, check_video, interface_frame, preflight_warnings
    from pipeline.video.duet import CommonSpan, common_span, make_duet_plan
    from pipeline.video.loudness import integrated_loudness
    from pipeline.video.media import decode_audio, probe
    from pipeline.video.meter import PendingLoudness, start_loudness
    from pipeline.video.plan import (
        captions_end,
        card_content,
        join_parts,
        joined_duration,
        make_joined_plan,
        make_plan,
        place_card,
    )
    from pipeline.video.still import render_still
    from pipeline.video.sync import SYNC_RATE, SyncResult, estimate_offset, sync_clips
    from pipeline.video.turns import TurnOptions, find_turns, speaker_at

__all__ = [
    "Check", "CheckReport", "CommonSpan", "common_span", "make_duet_plan", "captions_end", "card_content", "check_output_path", "check_video", "check_writable",
    "SyncResult", "decode_audio", "estimate_offset", "integrated_loudness", "interface_frame", "join_parts", "joined_duration", "make_joined_plan",
    "make_plan", "place_card", "preflight_warnings",
    "PendingLoudness", "probe", "render", "render_still", "start_loudness", "sync_clips",
    "SYNC_RATE", "TurnOptions", "find_turns", "speaker_at",
]

__getattr__ = lazy_api(__name__)
