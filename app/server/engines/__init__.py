"""Transcription engines: one module each, all behind `Engine` / `EngineSession`."""

import os

# Threads inside each local decode (decodes run one at a time). Two cut the wait for a final on
# a 2-core machine (speech end to final p50 1.23 -> 0.90 s, bench/streaming.py) at no more CPU
# per audio second; more cores help little for models this small.
DEFAULT_THREADS = min(2, os.cpu_count() or 1)
# Deepgram's model for every session unless the server's owner lets clients choose others.
DEEPGRAM_MODEL = "nova-2"
