"""Transcript model and exporters: pure, no I/O frameworks."""
