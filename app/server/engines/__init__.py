"""Transcription engines: one module each, all behind `Engine` / `EngineSession`."""
