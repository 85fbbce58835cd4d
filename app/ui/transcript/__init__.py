"""The transcript panel: its model and view, naming speakers, correcting words, files."""
