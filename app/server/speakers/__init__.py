"""Who is speaking: speaker embeddings (GE2E voice encoder) for live diarization."""
