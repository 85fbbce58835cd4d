"""Audio sources: microphone, system audio, files; resampling and chunking."""
