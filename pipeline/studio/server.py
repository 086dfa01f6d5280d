"""Serve the studio on 127.0.0.1: bind a port, print the address with its token, open a browser.

In: the studio folder, settings and a port (0: a free one). Out: a running uvicorn server until
Ctrl-C, which also cancels a running render or transcription cleanly. uvicorn's access log is off: the first URL holds the token.
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def default_folder(settings: Settings) -> Path:
    """`[studio] folder`, else a "sossut" folder under the user's videos (or documents) folder."""
    if settings.studio.folder:
        return Path(settings.studio.folder).expanduser()
    import platformdirs

    for base in (platformdirs.user_videos_dir(), platformdirs.user_documents_dir()):
        if base and Path(base).is_dir():
            return Path(base) / "sossut"
    return Path.home() / "sossut"


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (`port` 0: the system picks a free one).

    Raises:
        OSError: the port is taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(folder: Path, settings: Settings, *, port: int = 0, open_browser: bool = True,
          vocabulary_file: Path | None = None, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the studio until Ctrl-C.

    Args:
        folder: the studio folder (created if missing).
        settings: pipeline settings.
        port: 0 for a free port.
        open_browser: open the default browser at the address once the server answers.
        vocabulary_file: extra terms for transcription.
        on_ready: told the address (with the token) once the server listens.
    """
    import uvicorn

    from pipeline.studio.app import create_app

    sock = bind(port)
    bound = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    guard, studio = create_app(folder, settings, token=token, hosts=(f"{HOST}:{bound}", f"localhost:{bound}"),
                          vocabulary_file=vocabulary_file)
    url = f"http://{HOST}:{bound}/?token={token}"
    config = uvicorn.Config(guard, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            if on_ready:
                on_ready(url)
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, name="studio-announce", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        # Ctrl-C: a running render or transcription is stopped (ffmpeg ended, its .partial
        # removed) before the process exits; its thread is a daemon and would die mid-write.
        if not studio.tasks.cancel_all(timeout=20):
            log.warning("a task did not stop in time")
