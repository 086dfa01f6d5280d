"""sossut: a raw phone clip and one viewer comment in, a finished TikTok reply video out.

The public API for Python users. Names are imported on first use (PEP 562), so `import
pipeline` (and every `sossut` command) stays quick and loads only what it needs::

    from pipeline import ReplyJob, load_settings, make_reply
    from pipeline.types import Comment

    settings = load_settings()
    make_reply(ReplyJob(clip=Path("klippi.mp4"), output=Path("vastaus.mp4"),
                        comment=Comment("Voiko ilmoituksen tehdä nimettömänä?")), settings)

The stages (one folder each) are `video`, `speech`, `captions`, `card`, `comments`, `batch`;
`reply` wires them for one video; `cli` is the `sossut` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pipeline.batch import BatchOptions, BatchReport, load_manifest, run_batch
    from pipeline.config import Settings, load_settings
    from pipeline.errors import (
        ConfigError,
        InputError,
        OutputError,
        PipelineError,
        RenderError,
        TranscribeError,
    )
    from pipeline.reply import ReplyJob, ReplyResult, make_reply

_PUBLIC = {
    "make_reply": "pipeline.reply",
    "ReplyJob": "pipeline.reply",
    "ReplyResult": "pipeline.reply",
    "run_batch": "pipeline.batch",
    "load_manifest": "pipeline.batch",
    "BatchOptions": "pipeline.batch",
    "BatchReport": "pipeline.batch",
    "load_settings": "pipeline.config",
    "Settings": "pipeline.config",
    "PipelineError": "pipeline.errors",
    "ConfigError": "pipeline.errors",
    "InputError": "pipeline.errors",
    "OutputError": "pipeline.errors",
    "RenderError": "pipeline.errors",
    "TranscribeError": "pipeline.errors",
}

__all__ = [
    "BatchOptions",
    "BatchReport",
    "ConfigError",
    "InputError",
    "OutputError",
    "PipelineError",
    "RenderError",
    "ReplyJob",
    "ReplyResult",
    "Settings",
    "TranscribeError",
    "__version__",
    "load_manifest",
    "load_settings",
    "make_reply",
    "run_batch",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
