"""The studio: a local web page (Starlette + uvicorn, plain HTML/JS/CSS) to make one reply video
from start to finish without a terminal.

- `server`: bind 127.0.0.1, token, open the browser; `app`: routes; `comments_routes`: the
  "Kommentit" view (a pile of comments sorted into the inbox, "Vastaa" opens a reply job);
  `security`: the guard (Host, token cookie, Origin, headers); `jobs`: job folders; `work`: card,
  transcription, captions and render of a job, and its answer in the ledger (the pipeline's own
  functions); `tasks`: long work in threads; `cliplist`: a job's several clips (order, cuts, join
  or duet); `joined`: the video's clock of several clips or a duet (captions, sync, waveforms,
  preview frame); `clips_routes`: their routes.
- `static/`: the page; every text it shows is in `static/messages.fi.json`.
"""

from pipeline.studio.app import create_app
from pipeline.studio.jobs import JobStore
from pipeline.studio.server import default_folder, serve

__all__ = ["JobStore", "create_app", "default_folder", "serve"]
