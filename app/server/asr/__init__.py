"""Streaming speech recognition parts: VAD, endpointing, resampling, decoding, agreement."""
