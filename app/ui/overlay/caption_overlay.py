"""The caption overlay: frameless, always on top, translucent, never takes focus.

Text is laid out as roll-up captions: settled words first, interim words after them in a
different colour and italics. Lines are wrapped from the start of the recent text, so only the
last line changes while someone speaks and earlier lines never jump. It fades out after a
silence and comes back with the next word. Drag it anywhere; resize from the corner grip.

A reader can step back a few lines (the words kept include those that faded) and return to
live; while they read back, new words do not move what they read, and nothing fades.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from PySide6.QtCore import QEasingCurve, QPoint, QPropertyAnimation, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizeGrip, QWidget

from app.domain.transcript import Segment
from app.services.settings import OverlayLook
from app.ui.overlay.lines import Token, farthest_back, lines_back, whole_lines_over, wrap
from app.ui.overlay.presets import outline_colour
from app.ui.overlay.share_hiding import ShareHiding

MAX_WORDS_KEPT = 200  # of settled text: 5 long lines and more to read back
PADDING = 14
RETURN_TO_LIVE_S = 15.0  # reading back without a key for this long returns to live


class CaptionOverlay(QWidget):
    geometry_changed = Signal()  # after a drag or a resize ends
    scrolled = Signal(int)  # lines back from live; 0: live

    def __init__(self, look: OverlayLook | None = None) -> None:
        super().__init__(None)
        self.look = look or OverlayLook()
        self.setWindowTitle("Captionist captions")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setMinimumSize(240, 60)
        self.resize(900, 130)
        self._apply_flags()
        self._finals: list[Token] = []  # settled words kept, oldest first
        self._live_from = 0  # where the live view starts in them: after a fade, a fresh start
        self._held: tuple[list[Token], list[Token]] | None = None  # what is being read back
        self._back = 0
        self.return_to_live_s = RETURN_TO_LIVE_S
        self._return_timer = QTimer(self)
        self._return_timer.setSingleShot(True)
        self._return_timer.timeout.connect(self.go_live)
        self._interims: dict[str, list[Token]] = {}
        self._last_source = ""
        self.names: Mapping[str, str] = {}  # label -> the user's name, for lines from now on
        self._drag_offset: QPoint | None = None
        self._grip = QSizeGrip(self)
        self._grip.resize(16, 16)
        self._fade_timer = QTimer(self)
        self._fade_timer.setSingleShot(True)
        self._fade_timer.timeout.connect(self._fade_out)
        self._fade = QPropertyAnimation(self, b"windowOpacity", self)
        self._fade.setDuration(700)
        self._fade.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self._fade.finished.connect(self._after_fade)
        self._placeholder = "Captions appear here"
        self.share_hiding = ShareHiding(self)  # kept out of screen sharing, if the look says
        self.share_hiding.set_wanted(self.look.hide_from_share)

    # -- window behaviour ---------------------------------------------------------------
    def _apply_flags(self) -> None:
        flags = (
            Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.Tool
            | Qt.WindowType.WindowDoesNotAcceptFocus
        )
        if self.look.click_through:
            flags |= Qt.WindowType.WindowTransparentForInput
            if sys.platform.startswith("linux"):
                # Reparenting window managers catch clicks in their frame window; an
                # unmanaged (override-redirect) window lets them through and stays on top.
                flags |= Qt.WindowType.X11BypassWindowManagerHint
        visible = self.isVisible()
        self.setWindowFlags(flags)
        if visible:
            self.show()

    @property
    def click_through(self) -> bool:
        return self.look.click_through

    def set_click_through(self, enabled: bool) -> None:
        if enabled != self.look.click_through:
            self.look.click_through = enabled
            self._apply_flags()
            self._grip.setVisible(not enabled)

    def apply_look(self, look: OverlayLook) -> None:
        click_through_changed = look.click_through != self.look.click_through
        self.look = look
        if click_through_changed:
            self._apply_flags()
        self.share_hiding.set_wanted(look.hide_from_share)
        # A new fade counts from now for the words already up; "never" keeps them up.
        self._fade_timer.stop()
        if self._fade.state() == QPropertyAnimation.State.Running:
            self._fade.stop()
            self.setWindowOpacity(1.0)
        self._changed(bool(self.tokens()))
        if self._back:
            self._read_at(min(self._back, farthest_back(self._held_lines(), self.look.lines)))

    def dump_state(self) -> list[int]:
        rect = self.geometry()
        return [rect.x(), rect.y(), rect.width(), rect.height()]

    def apply_state(self, state: list[int]) -> None:
        x, y, width, height = state
        self.setGeometry(QRect(x, y, max(width, 240), max(height, 60)))

    def screen_key(self) -> str:
        screen = self.screen()
        if screen is None:
            return "default"
        size = screen.geometry()
        return f"{screen.name()}-{size.width()}x{size.height()}"

    # -- captions -------------------------------------------------------------------------
    def _source_tokens(self, source: str) -> list[Token]:
        live = self._finals[self._live_from :]
        if source and source != self._last_source and (live or self._last_source):
            return [Token(f"{self.names.get(source, source)}:", True, label=True)]
        return []

    def add_final(self, segment: Segment) -> None:
        text = segment.text.strip()
        self._interims.pop(segment.source, None)
        if text:
            self._finals.extend(self._source_tokens(segment.source))
            self._last_source = segment.source or self._last_source
            self._finals.extend(Token(word, True) for word in text.split())
            self._let_go()
        self._changed(bool(text))

    def set_interim(self, segment: Segment) -> None:
        words = segment.text.split()
        if words:
            self._interims[segment.source] = [Token(w, False) for w in words]
        else:
            self._interims.pop(segment.source, None)
        self._changed(bool(words))

    def clear(self) -> None:
        self._finals.clear()
        self._live_from = 0
        self._interims.clear()
        self._last_source = ""
        self.go_live()
        self.update()

    def tokens(self) -> list[Token]:
        """What the live view shows: the settled words since the last fade, then interims."""
        tokens = self._finals[self._live_from :]
        for source, interim in self._interims.items():
            if source and source != self._last_source and len(self._interims) > 1:
                tokens.append(Token(f"{source}:", False, label=True))
            tokens.extend(interim)
        return tokens

    def _let_go(self) -> None:
        """Keep about MAX_WORDS_KEPT settled words, letting go of whole lines from the top:
        dropping single words would move words between the lines on screen at every final."""
        excess = len(self._finals) - MAX_WORDS_KEPT
        earlier = min(max(excess, 0), self._live_from)  # not on screen: any number of words
        del self._finals[:earlier]
        self._live_from -= earlier
        if excess > earlier:
            live = self._wrap(self._finals[self._live_from :])
            dropped = whole_lines_over(live, excess - earlier)
            del self._finals[self._live_from : self._live_from + dropped]

    def kept_words(self) -> list[str]:
        """Every settled word kept, oldest first, those that faded too."""
        return [token.text for token in self._finals]

    def _wrap(self, tokens: list[Token]) -> list[list[Token]]:
        metrics = QFontMetrics(self.caption_font())
        width = max(50, self.width() - 2 * PADDING)
        return wrap(tokens, metrics.horizontalAdvance, metrics.horizontalAdvance(" "), width)

    def visible_lines(self) -> list[list[Token]]:
        """The tokens wrapped to the overlay's width; the last `look.lines` lines, or while
        reading back, the lines that many lines earlier."""
        if self._back:
            return lines_back(self._held_lines(), self.look.lines, self._back)
        return self._wrap(self.tokens())[-self.look.lines :]

    # -- reading back ---------------------------------------------------------------------
    @property
    def lines_back(self) -> int:
        return self._back

    def hint(self) -> str:
        if not self._back:
            return ""
        return f"▲ {self._back} line{'' if self._back == 1 else 's'} back — Esc: live"

    def scroll_back(self) -> None:
        """One line further back, up to the first word kept."""
        if self._held is None:  # a copy: new words must not move what is read
            self._held = self._finals[: self._live_from], self._finals[self._live_from :]
        self._read_at(min(self._back + 1, farthest_back(self._held_lines(), self.look.lines)))

    def scroll_forward(self) -> None:
        if self._back:
            self._read_at(self._back - 1)

    def go_live(self) -> None:
        self._read_at(0)

    def _held_lines(self) -> list[list[Token]]:
        earlier, live = self._held or ([], [])
        # An empty line for a live view emptied by a fade, as `farthest_back` expects.
        return self._wrap(earlier) + (self._wrap(live) or [[]])

    def _read_at(self, back: int) -> None:
        self._return_timer.stop()
        if back > 0:
            self._return_timer.start(int(self.return_to_live_s * 1000))
            self._hold_fade()
        else:
            self._held = None
        if back != self._back:
            self._back = back
            self.scrolled.emit(back)
        self.update()

    def _hold_fade(self) -> None:
        """No fading while someone reads back: a fade under way is undone, and counted
        again from when they return to live."""
        if self._fade.state() == QPropertyAnimation.State.Running:
            self._fade.stop()
            self.setWindowOpacity(1.0)
        if self.look.fade_after_s > 0 and not self._fade_timer.isActive():
            self._fade_timer.start(int(self.look.fade_after_s * 1000))

    def caption_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSize(self.look.font_size)
        font.setWeight(QFont.Weight.DemiBold)
        return font

    def _changed(self, has_words: bool) -> None:
        if has_words:
            self._fade.stop()
            self.setWindowOpacity(1.0)
            if self.look.fade_after_s > 0:
                self._fade_timer.start(int(self.look.fade_after_s * 1000))
        self.update()

    def _fade_out(self) -> None:
        if self._interims or self._back:  # someone is still speaking, or reading back
            self._fade_timer.start(int(self.look.fade_after_s * 1000))
            return
        self._fade.setStartValue(self.windowOpacity())
        self._fade.setEndValue(0.0)
        self._fade.start()

    def _after_fade(self) -> None:
        if self._fade.endValue() == 0.0:
            self._live_from = len(self._finals)  # kept to read back; the next words start afresh
            self._last_source = ""
            self.setWindowOpacity(1.0)
            self.update()

    # -- painting -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        lines = self.visible_lines()
        background = QColor(self.look.background_color)
        background.setAlphaF(
            self.look.background_opacity if lines else self.look.background_opacity * 0.5
        )
        painter.setPen(Qt.PenStyle.NoPen)
        if self.share_hiding.made_opaque:  # no alpha: the corners must be painted too
            painter.fillRect(self.rect(), QColor(self.look.background_color))
        painter.setBrush(background)
        painter.drawRoundedRect(self.rect(), 12, 12)
        font = self.caption_font()
        metrics = QFontMetrics(font)
        line_height = metrics.lineSpacing()
        y = self.height() - PADDING - len(lines) * line_height + metrics.ascent()
        if not lines:
            font.setItalic(True)
            painter.setFont(font)
            painter.setPen(QColor(self.look.interim_color))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
            return
        space = metrics.horizontalAdvance(" ")
        for line in lines:
            x = PADDING
            for token in line:
                token_font = QFont(font)
                token_font.setItalic(not token.final and not token.label)
                if token.label:
                    token_font.setWeight(QFont.Weight.Normal)
                colour = self.look.text_color if token.final else self.look.interim_color
                self._draw_outline(painter, x, y, token.text, token_font)
                painter.setFont(token_font)
                painter.setPen(QColor(self.look.interim_color if token.label else colour))
                painter.drawText(x, y, token.text)
                x += QFontMetrics(token_font).horizontalAdvance(token.text) + space
            y += line_height
        self._draw_hint(painter)

    def _draw_hint(self, painter: QPainter) -> None:
        """While reading back, a small note in the top right corner on an opaque patch of
        the background: it stays readable over a line of captions under it."""
        text = self.hint()
        if not text:
            return
        font = QFont(self.font())
        font.setPointSize(max(9, round(self.look.font_size * 0.4)))
        metrics = QFontMetrics(font)
        box = QRect(0, 0, metrics.horizontalAdvance(text) + 14, metrics.height() + 4)
        box.moveTopRight(QPoint(self.width() - 10, 6))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self.look.background_color))
        painter.drawRoundedRect(box, 6, 6)
        painter.setFont(font)
        painter.setPen(QColor(self.look.interim_color))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _draw_outline(self, painter: QPainter, x: int, y: int, text: str, font: QFont) -> None:
        """The outline, if on: a wide stroke along the glyphs' edges, under the letters, so
        half of it shows around them whatever lies behind the overlay."""
        if not self.look.outline:
            return
        path = QPainterPath()
        path.addText(x, y, font, text)
        width = max(2.0, QFontMetrics(font).height() / 9)
        pen = QPen(QColor(outline_colour(self.look.text_color)), width)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.strokePath(path, pen)

    def resizeEvent(self, event: object) -> None:
        self._grip.move(
            self.width() - self._grip.width() - 4, self.height() - self._grip.height() - 4
        )
        self.geometry_changed.emit()

    # -- dragging -------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_offset = event.globalPosition().toPoint() - self.pos()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is not None:
            self.move(event.globalPosition().toPoint() - self._drag_offset)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is not None:
            self._drag_offset = None
            self.geometry_changed.emit()
