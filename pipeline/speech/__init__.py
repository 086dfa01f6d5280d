"""Speech stage: audio + `TranscribeOptions` -> `Transcript` (words with times). The only folder
that imports Whisper.

- `options`: `TranscribeOptions` and the `Transcriber` protocol the engines implement;
- `vocabulary`: domain terms -> the prompt that primes the engine;
- `transcribe`: loading a model, transcribing a clip, the transcript cache;
- `child`: transcriptions in a child process (one model load), so its model is gone when it returns;
- `engines`: the faster-whisper and openai-whisper adapters;
- `weights`: the embedded "base" model (assembled from its two packages, hash-checked);
- `hallucinations`: drops segments that are not speech.
"""

from pipeline.speech.child import transcribe_file_in_child, transcribe_files_in_child
from pipeline.speech.options import TranscribeOptions, Transcriber, TranscriberFactory
from pipeline.speech.transcribe import get_transcriber, options_from_settings, transcribe_file

__all__ = [
    "TranscribeOptions",
    "Transcriber",
    "TranscriberFactory",
    "get_transcriber",
    "options_from_settings",
    "transcribe_file",
    "transcribe_file_in_child",
    "transcribe_files_in_child",
]
