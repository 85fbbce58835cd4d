"""Model registry: pinned files and sha256, offline packages, local folders, verified downloads."""
