"""Painting one tile: the thumbnail (aspect kept, centred, pixel-exact on high-DPI screens), the file name,
a badge in the class colour (filled: a label; outlined, with the confidence: a prediction only), a mark on
labels a person set or accepted, and a broken-image tile for photos that cannot be shown.

Every colour not a class colour comes from the palette, so the grid follows light and dark themes.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from lakeview.core.catalog.labels import NONE_OF_THESE
from lakeview.gui.grid.group_rows import GroupHeader
from lakeview.gui.grid.header_tile import paint_header
from lakeview.gui.grid.model import DEFAULT_THUMBNAIL_PX, Role
from lakeview.gui.grid.photo_entry import PhotoEntry

MARGIN = 6  # around the thumbnail inside a tile
GAP = 4  # between the thumbnail and the file name
INSET = 4  # badge and mark from the thumbnail's edges
MARK = 18  # diameter of the corrected / accepted mark


def contrasting(colour: QColor) -> QColor:
    """Black or white, whichever reads better on `colour` (WCAG relative luminance)."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    luminance = 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    return QColor(Qt.GlobalColor.black) if luminance > 0.40 else QColor(Qt.GlobalColor.white)


def badge_text(name: str) -> str:
    return "none of these" if name == NONE_OF_THESE else name


class PhotoDelegate(QStyledItemDelegate):
    def __init__(self, parent=None, thumbnail_size: int = DEFAULT_THUMBNAIL_PX) -> None:
        super().__init__(parent)
        self._size = thumbnail_size

    def thumbnail_size(self) -> int:
        return self._size

    def set_thumbnail_size(self, size: int) -> None:
        self._size = size

    # --- geometry ----------------------------------------------------------------------------------------

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self._size + 2 * MARGIN, self._size + 2 * MARGIN + GAP + option.fontMetrics.height())

    def thumbnail_rect(self, tile: QRect) -> QRect:
        return QRect(tile.x() + (tile.width() - self._size) // 2, tile.y() + MARGIN, self._size, self._size)

    def badge_rect(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QRect | None:
        """Where the class badge of `index` is painted (None when it has neither label nor prediction)."""
        entry = index.data(Role.EntryRole)
        if entry is None or (entry.label is None and entry.predicted is None):
            return None
        ratio = option.widget.devicePixelRatioF() if option.widget is not None else 1.0
        content = self._content_rect(self.thumbnail_rect(option.rect), index, entry, ratio)
        return self._badge(option, entry, content.toAlignedRect())[0]

    def image_rect(self, box: QRect, pixmap: QPixmap, ratio: float) -> QRectF:
        """Where `pixmap` goes in `box`: fitted, centred, never enlarged, on device-pixel boundaries so that a
        thumbnail made at the screen's resolution is copied 1:1."""
        width, height = pixmap.width() / ratio, pixmap.height() / ratio
        scale = min(1.0, box.width() / width, box.height() / height)
        width, height = width * scale, height * scale
        x, y = box.x() + (box.width() - width) / 2, box.y() + (box.height() - height) / 2
        return QRectF(round(x * ratio) / ratio, round(y * ratio) / ratio,
                      round(width * ratio) / ratio, round(height * ratio) / ratio)

    def _content_rect(self, box: QRect, index, entry: PhotoEntry, ratio: float) -> QRectF:
        if entry.error is None:
            pixmap = index.data(Role.ThumbnailRole)
            if not pixmap.isNull():
                return self.image_rect(box, pixmap, ratio)
        return QRectF(box)

    def _badge_font(self, option: QStyleOptionViewItem) -> QFont:
        font = QFont(option.font)
        font.setBold(True)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 0.9)
        return font

    def _badge(self, option: QStyleOptionViewItem, entry: PhotoEntry, content: QRect) -> tuple[QRect, str, QFont]:
        box = self.thumbnail_rect(option.rect)
        font = self._badge_font(option)
        metrics = QFontMetrics(font)
        pad = 6
        widest = box.width() - 2 * INSET - 2 * pad
        if entry.label is not None:
            text = metrics.elidedText(badge_text(entry.label), Qt.TextElideMode.ElideRight, widest)
        else:
            percent = f" {entry.confidence:.0%}" if entry.confidence is not None else ""
            name = metrics.elidedText(badge_text(entry.predicted), Qt.TextElideMode.ElideRight,
                                      widest - metrics.horizontalAdvance(percent))
            text = name + percent
        height = metrics.height() + 4
        width = metrics.horizontalAdvance(text) + 2 * pad
        # On the picture's bottom-left corner, or the tile's when the picture is narrower than the badge.
        left = content.left() if content.left() + INSET + width <= box.right() else box.left()
        rect = QRect(left + INSET, content.bottom() - INSET - height + 1, width, height)
        return rect, text, font

    # --- painting ----------------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        entry: PhotoEntry | None = index.data(Role.EntryRole)
        if entry is None:
            return super().paint(painter, option, index)
        if isinstance(entry, GroupHeader):
            return paint_header(painter, option, entry, self.thumbnail_rect(option.rect))
        palette: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Active if option.state & QStyle.StateFlag.State_Active else QPalette.ColorGroup.Inactive
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        tile = QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(group, QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(tile, 5, 5)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            hover = QColor(palette.color(group, QPalette.ColorRole.Highlight))
            hover.setAlpha(45)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(hover)
            painter.drawRoundedRect(tile, 5, 5)
        if option.state & QStyle.StateFlag.State_HasFocus and not selected:
            painter.setPen(QPen(palette.color(group, QPalette.ColorRole.Highlight), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(tile, 5, 5)

        box = self.thumbnail_rect(option.rect)
        content = QRect(box)
        if entry.error is not None:
            self._paint_broken(painter, box, palette, entry.error)
        else:
            pixmap = index.data(Role.ThumbnailRole)
            if pixmap.isNull():
                self._paint_placeholder(painter, box, palette)
            else:
                ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
                target = self.image_rect(box, pixmap, ratio)
                exact = round(target.width() * ratio) == pixmap.width()
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not exact)
                painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
                content = target.toAlignedRect()

        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(group, text_role))
        painter.setFont(option.font)
        name_rect = QRect(option.rect.x() + MARGIN, box.bottom() + 1 + GAP, option.rect.width() - 2 * MARGIN,
                          option.fontMetrics.height())
        name = option.fontMetrics.elidedText(entry.name, Qt.TextElideMode.ElideMiddle, name_rect.width())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)

        if entry.label is not None or entry.predicted is not None:
            colour = index.data(Role.ColourRole)
            if not colour.isValid():
                colour = QColor(palette.color(QPalette.ColorRole.Mid))
            self._paint_badge(painter, option, entry, content, colour, palette)
            if entry.label is not None and entry.label_source in ("user", "accepted"):
                self._paint_mark(painter, content, colour, pencil=entry.label_source == "user")
        painter.restore()

    def _paint_placeholder(self, painter: QPainter, box: QRect, palette: QPalette) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)

    def _paint_broken(self, painter: QPainter, box: QRect, palette: QPalette, reason: str) -> None:
        ink = QColor(palette.color(QPalette.ColorRole.Text))
        ink.setAlpha(150)
        painter.setPen(QPen(ink, 1, Qt.PenStyle.DashLine))
        painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        # A picture frame with a mountain, torn by a zigzag: the usual "broken image" sign.
        side = box.width() * 0.34
        frame = QRectF(box.center().x() - side / 2, box.y() + box.height() * 0.22, side, side * 0.78)
        painter.setPen(QPen(ink, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(frame)
        hill = QPainterPath(QPointF(frame.left(), frame.bottom()))
        hill.lineTo(frame.left() + frame.width() * 0.35, frame.top() + frame.height() * 0.45)
        hill.lineTo(frame.left() + frame.width() * 0.55, frame.top() + frame.height() * 0.7)
        hill.lineTo(frame.left() + frame.width() * 0.75, frame.top() + frame.height() * 0.5)
        hill.lineTo(frame.right(), frame.bottom())
        painter.drawPath(hill)
        crack = QPainterPath(QPointF(frame.center().x() + side * 0.05, frame.top() - 3))
        for i, dx in enumerate((-0.12, 0.1, -0.1, 0.08)):
            crack.lineTo(frame.center().x() + side * dx, frame.top() + frame.height() * (i + 1) / 4)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 4))
        painter.drawPath(crack)
        painter.setPen(ink)
        font = QFont(painter.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 0.85)
        painter.setFont(font)
        text_box = QRectF(box.x() + 6, frame.bottom() + 8, box.width() - 12, box.bottom() - frame.bottom() - 12)
        metrics = QFontMetrics(font)
        lines = max(1, int(text_box.height() // metrics.lineSpacing()))
        text = self._wrap(metrics, reason, int(text_box.width()), lines)
        painter.drawText(text_box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)

    @staticmethod
    def _wrap(metrics: QFontMetrics, text: str, width: int, lines: int) -> str:
        """Word-wrap `text` into at most `lines` lines, the last one elided."""
        out, current = [], ""
        words = text.split()
        for i, word in enumerate(words):
            trial = f"{current} {word}".strip()
            if metrics.horizontalAdvance(trial) <= width or not current:
                current = trial
                continue
            out.append(current)
            current = word
            if len(out) == lines - 1:
                current = " ".join(words[i:])
                break
        out.append(metrics.elidedText(current, Qt.TextElideMode.ElideRight, width))
        return "\n".join(out[:lines])

    def _paint_badge(self, painter: QPainter, option: QStyleOptionViewItem, entry: PhotoEntry, content: QRect,
                     colour: QColor, palette: QPalette) -> None:
        rect, text, font = self._badge(option, entry, content)
        painter.setFont(font)
        shape = QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = shape.height() / 2
        if entry.label is not None:  # assigned: filled in the class colour
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(shape, radius, radius)
            painter.setPen(contrasting(colour))
        else:  # predicted only: outlined, on the base colour so it reads over any photo
            base = QColor(palette.color(QPalette.ColorRole.Base))
            base.setAlpha(225)
            painter.setBrush(base)
            painter.setPen(QPen(colour, 2))
            painter.drawRoundedRect(shape.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_mark(self, painter: QPainter, box: QRect, colour: QColor, pencil: bool) -> None:
        """A pencil for a label a person set (a correction), a tick for a prediction they accepted."""
        circle = QRectF(box.right() - INSET - MARK + 1, box.top() + INSET, MARK, MARK)
        ink = contrasting(colour)
        painter.setPen(QPen(ink, 1.5))
        painter.setBrush(colour)
        painter.drawEllipse(circle)
        c, r = circle.center(), MARK / 2
        if pencil:
            painter.save()
            painter.translate(c)
            painter.rotate(-45)
            body = QRectF(-r * 0.45, -r * 0.16, r * 0.8, r * 0.32)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ink)
            painter.drawRect(body)
            tip = QPainterPath(QPointF(body.left() - r * 0.05, body.top()))
            tip.lineTo(body.left() - r * 0.3, 0)
            tip.lineTo(body.left() - r * 0.05, body.bottom())
            tip.closeSubpath()
            painter.drawPath(tip)
            painter.restore()
        else:
            tick = QPainterPath(QPointF(c.x() - r * 0.45, c.y()))
            tick.lineTo(c.x() - r * 0.12, c.y() + r * 0.35)
            tick.lineTo(c.x() + r * 0.45, c.y() - r * 0.35)
            painter.setPen(QPen(ink, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(tick)
