"""Speech stage: audio + `TranscribeOptions` -> `Transcript` (words with times). The only folder
that imports Whisper.

- `transcribe`: options, the `Transcriber` protocol, vocabulary prompt, transcript cache;
- `engines`: the faster-whisper and openai-whisper adapters;
- `weights`: the embedded "base" model (assembled from its two packages, hash-checked);
- `hallucinations`: drops segments that are not speech.
"""

from pipeline.speech.transcribe import get_transcriber, options_from_settings, transcribe_file

__all__ = ["get_transcriber", "options_from_settings", "transcribe_file"]
