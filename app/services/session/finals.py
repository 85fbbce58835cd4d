"""The current session's words: its finals as corrected, and its speakers' names. Pure data
(no I/O): the session core journals every change before it lands here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.domain.edits import EditKey, edit_key, with_edit
from app.domain.speakers import SpeakerNames, numbers_used
from app.domain.transcript import Segment, join_utterances, next_run_start


class SessionFinals:
    def __init__(self) -> None:
        self._finals: list[Segment] = []
        self._by_key: dict[EditKey, int] = {}  # a final's index, for corrections
        self.names = SpeakerNames()

    @property
    def finals(self) -> list[Segment]:
        return list(self._finals)

    @property
    def utterances(self) -> list[Segment]:
        """Finals joined into utterances, as corrected: what an export writes."""
        return join_utterances(self._finals)

    @property
    def next_run_start(self) -> float:
        """Where a new run goes on the session's timeline (after everything it holds)."""
        return next_run_start(self._finals)

    @property
    def speakers_used(self) -> int:
        """Voices numbered so far: a new run numbers its speakers after them."""
        return numbers_used(self._finals)

    def append(self, final: Segment) -> None:
        self._by_key[edit_key(final)] = len(self._finals)
        self._finals.append(final)

    def extend(self, finals: Iterable[Segment]) -> None:
        for final in finals:
            self.append(final)

    def correct(self, final: Segment, text: str) -> Segment | None:
        """`final` (found by its label and start) reading `text`, the words heard kept; None
        if there is no such final (another session became current) or it marks lost audio."""
        index = self._by_key.get(edit_key(final))
        if index is None or self._finals[index].gap_s:
            return None
        self._finals[index] = corrected = with_edit(self._finals[index], text)
        return corrected

    def rename(self, label: str, name: str) -> str:
        """Raises ValueError (saying why) for a name that cannot be shown."""
        return self.names.rename(label, name)

    def merge_names(self, names: Mapping[str, str]) -> None:
        for label, name in names.items():
            self.names.rename(label, name)

    def replace(self, finals: Iterable[Segment], names: Mapping[str, str]) -> None:
        """Another session's words take the place of these."""
        self._finals, self._by_key = [], {}
        self.names = SpeakerNames()
        self.extend(finals)
        self.merge_names(names)
