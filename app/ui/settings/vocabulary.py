"""The vocabulary list in Settings: words and names the captions should favour.

The terms follow the handshake's `keyterm` rules (app.protocol.params), so a list the dialog
accepts is never refused by the server.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import ParamError
from app.protocol.params import MAX_KEYTERMS, clean_keyterms


def _reason(exc: ParamError) -> str:
    """Why a term was refused, without the server's `invalid keyterm='…'` opening."""
    return str(exc).removeprefix(f"invalid {exc.param}={exc.value!r}: ")


class VocabularyList(QWidget):
    """Add, remove and import terms; `terms()` is the list in order, without duplicates."""

    def __init__(self, terms: tuple[str, ...] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("a name, product or word the captions get wrong")
        self.entry.returnPressed.connect(self._add_entry)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._add_entry)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.addItems(list(terms))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("a text file with one term per line")
        self.import_button.clicked.connect(self._choose_file)
        self.message = QLabel()
        self.message.setWordWrap(True)
        entry_row = QHBoxLayout()
        entry_row.addWidget(self.entry, 1)
        entry_row.addWidget(self.add_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(entry_row)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def terms(self) -> tuple[str, ...]:
        return tuple(self.list.item(row).text() for row in range(self.list.count()))

    def _accepts(self, term: str) -> str:
        """The term as it would be stored; ParamError if the list cannot take it."""
        kept = clean_keyterms(("keyterm", t) for t in (*self.terms(), term))
        return kept[-1] if len(kept) > len(self.terms()) else ""

    def add_term(self, term: str) -> bool:
        """Add one term; say why not when it is a duplicate or unusable."""
        try:
            cleaned = self._accepts(term)
        except ParamError as exc:
            self.message.setText(f"Not added: {_reason(exc)}.")
            return False
        if not cleaned:
            self.message.setText(f"“{' '.join(term.split())}” is already in the list.")
            return False
        self.list.addItem(cleaned)
        self.message.setText("")
        return True

    def _add_entry(self) -> None:
        if self.add_term(self.entry.text()):
            self.entry.clear()

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.message.setText("")

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import vocabulary", str(Path.home()), "Text files (*.txt);;All files (*)"
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> int:
        """Add each line of a text file; blank lines and duplicates are skipped. Returns how
        many terms were added; the message says what was skipped and why."""
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if isinstance(exc, UnicodeDecodeError):
                reason = "it is not UTF-8 text"
            self.message.setText(f"Could not read {path.name}: {reason}.")
            return 0
        added = duplicates = 0
        refused: list[str] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                cleaned = self._accepts(line)
            except ParamError as exc:
                refused.append(f"line {number}: {_reason(exc)}")
                continue
            if not cleaned:
                duplicates += 1
                continue
            self.list.addItem(cleaned)
            added += 1
        parts = [f"Added {added} {'term' if added == 1 else 'terms'} from {path.name}"]
        if duplicates:
            parts.append(f"{duplicates} already in the list")
        if refused:
            parts.append(f"{len(refused)} not added ({refused[0]})")
        if len(self.terms()) >= MAX_KEYTERMS:
            parts.append(f"the list holds at most {MAX_KEYTERMS} terms")
        self.message.setText("; ".join(parts) + ".")
        return added
