"""The caption overlay: frameless, always on top, translucent, never takes focus.

Text is laid out as roll-up captions: settled words first, interim words after them in a
different colour and italics. Lines are wrapped from the start of the recent text, so only the
last line changes while someone speaks and earlier lines never jump. It fades out after a
silence and comes back with the next word. Drag it anywhere; resize from the corner grip.
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
from app.ui.caption_lines import Token, whole_lines_over, wrap
from app.ui.overlay_presets import outline_colour
from app.ui.settings_store import OverlayLook

MAX_WORDS_KEPT = 200  # of settled text: 5 long lines and more to read back
PADDING = 14


class CaptionOverlay(QWidget):
    geometry_changed = Signal()  # after a drag or a resize ends

    def __init__(self, look: OverlayLook | None = None) -> None:
        super().__init__(None)
        self.look = look or OverlayLook()
        self.setWindowTitle("Captionist captions")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setMinimumSize(240, 60)
        self.resize(900, 130)
        self._apply_flags()
        self._finals: list[Token] = []
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
        # A new fade counts from now for the words already up; "never" keeps them up.
        self._fade_timer.stop()
        if self._fade.state() == QPropertyAnimation.State.Running:
            self._fade.stop()
            self.setWindowOpacity(1.0)
        self._changed(bool(self.tokens()))

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
        if source and source != self._last_source and (self._finals or self._last_source):
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
        self._interims.clear()
        self._last_source = ""
        self.update()

    def tokens(self) -> list[Token]:
        tokens = list(self._finals)
        for source, interim in self._interims.items():
            if source and source != self._last_source and len(self._interims) > 1:
                tokens.append(Token(f"{source}:", False, label=True))
            tokens.extend(interim)
        return tokens

    def _let_go(self) -> None:
        """Keep about MAX_WORDS_KEPT settled words, letting go of whole lines from the top:
        dropping single words would move words between the lines on screen at every final."""
        excess = len(self._finals) - MAX_WORDS_KEPT
        if excess > 0:
            del self._finals[: whole_lines_over(self._wrap(self._finals), excess)]

    def _wrap(self, tokens: list[Token]) -> list[list[Token]]:
        metrics = QFontMetrics(self.caption_font())
        width = max(50, self.width() - 2 * PADDING)
        return wrap(tokens, metrics.horizontalAdvance, metrics.horizontalAdvance(" "), width)

    def visible_lines(self) -> list[list[Token]]:
        """The tokens wrapped to the overlay's width; the last `look.lines` lines."""
        return self._wrap(self.tokens())[-self.look.lines :]

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
        if self._interims:  # someone is still speaking
            self._fade_timer.start(int(self.look.fade_after_s * 1000))
            return
        self._fade.setStartValue(self.windowOpacity())
        self._fade.setEndValue(0.0)
        self._fade.start()

    def _after_fade(self) -> None:
        if self._fade.endValue() == 0.0:
            self._finals.clear()
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
                self._draw_word(painter, x, y, token.text, token_font)
                painter.setFont(token_font)
                painter.setPen(QColor(self.look.interim_color if token.label else colour))
                painter.drawText(x, y, token.text)
                x += QFontMetrics(token_font).horizontalAdvance(token.text) + space
            y += line_height

    def _draw_word(self, painter: QPainter, x: int, y: int, text: str, font: QFont) -> None:
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
