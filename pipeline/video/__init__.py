"""Video stage: a clip path -> `MediaInfo`; `MediaInfo` + cues + card + style -> `RenderPlan`
(pure) -> one ffmpeg filtergraph -> MP4 (atomic). The only folder that runs ffmpeg.

- `media`: probe (PyAV) and audio decode; `loudness`: BS.1770 integrated loudness;
- `plan`: every choice of a render as a `RenderPlan` (pure); `render`: plan -> argv -> ffmpeg;
- `still`: one frame of a plan as a PNG (the studio's preview);
- `ffmpeg`: which ffmpeg binary, and running it with progress; `lifetime`: it ends when we end.
"""

from pipeline.video.loudness import integrated_loudness
from pipeline.video.media import decode_audio, probe
from pipeline.video.plan import card_content, make_plan, place_card
from pipeline.video.render import check_output_path, check_writable, render
from pipeline.video.still import render_still

__all__ = ["card_content", "check_output_path", "check_writable", "decode_audio", "integrated_loudness", "make_plan", "place_card", "probe", "render", "render_still"]
