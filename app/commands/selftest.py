"""`captionist --selftest`: prove an install or a bundle works, with no network and no display.

Loads and verifies the model, starts the embedded server, captions the bundled sample through
the real WebSocket path, and reports what it heard and how long each step took. Qt is checked
by the composition root, which runs this on the Qt event loop.
"""

from __future__ import annotations

import io
import time
from typing import Any

from app import __version__
from app.audio.file_source import read_audio
from app.commands.embedded import embedded_server
from app.commands.preflight import model_problem
from app.commands.transcribe import EventLog, stream_audio
from app.domain.transcript import Transcript
from app.models.store import ModelStore
from app.protocol.messages import Results, ServerMessage
from app.resources import SAMPLE, SAMPLE_WORDS, resources_dir
from app.server.engines.whisper import WhisperEngine


async def selftest_report(model: str = "tiny.en") -> dict[str, Any]:
    """Every check's outcome; `ok` is true only if all passed. Never raises."""
    report: dict[str, Any] = {"version": __version__, "model": model, "ok": False}
    started = time.monotonic()
    store = ModelStore()
    if problem := model_problem(store, model):  # every file hash-checked
        report["error"] = str(problem)
        return report
    try:
        engine = WhisperEngine.load(model, store=store)
        engine.warm_up()
        report["model_load_s"] = round(time.monotonic() - started, 2)
        report["model_path"] = str(engine.model.path)
        sample = read_audio(resources_dir() / SAMPLE)
        transcript = Transcript()

        def on_message(message: ServerMessage) -> None:
            if isinstance(message, Results):
                transcript.apply(message)

        captioned = time.monotonic()
        try:
            async with embedded_server(engine) as (url, token):
                await stream_audio(
                    sample,
                    url,
                    token,
                    realtime=False,
                    events=EventLog(None),
                    on_message=on_message,
                    status=io.StringIO(),
                )
        finally:
            await engine.aclose()
        report["caption_s"] = round(time.monotonic() - captioned, 2)
        report["sample_s"] = round(sample.duration, 2)
        report["text"] = transcript.text
        heard = transcript.text.lower()
        missing = [w for w in SAMPLE_WORDS if w not in heard]
        report["ok"] = not missing
        if missing:
            report["error"] = f"the sample's words {missing} were not heard"
    except Exception as exc:  # a self-test reports every failure instead of crashing
        report["error"] = f"{type(exc).__name__}: {exc}"
    report["total_s"] = round(time.monotonic() - started, 2)
    return report
