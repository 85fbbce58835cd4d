"""The transcription server: WebSocket endpoint, sessions, limits and engines."""
