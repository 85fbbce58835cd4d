"""The Library window (File → Library…): saved sessions listed, searched, opened read-only or
continued, renamed, deleted with undo, exported; and how long they are kept."""

from app.ui.library.controller import LibraryController
from app.ui.library.window import LibraryWindow

__all__ = ["LibraryController", "LibraryWindow"]
