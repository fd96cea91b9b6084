"""Painting a group's header tile: a card in the palette's highlight tint, the group's name, its photo count large,
and, once selected, the key that labels the whole group."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from lakeview.gui.grid.group_rows import GroupHeader

TINT = 70
"""Alpha of the highlight colour behind a header that is not selected."""


def paint_header(painter: QPainter, option: QStyleOptionViewItem, header: GroupHeader, box: QRect) -> None:
    """Paint `header` in its tile `option.rect`; `box` is where a photo's thumbnail would be."""
    palette: QPalette = option.palette
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    group = QPalette.ColorGroup.Active if option.state & QStyle.StateFlag.State_Active else QPalette.ColorGroup.Inactive
    highlight = QColor(palette.color(group, QPalette.ColorRole.Highlight))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    card = QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5)
    fill = QColor(highlight)
    if not selected:
        fill.setAlpha(TINT)
    painter.setPen(QPen(highlight, 2 if option.state & QStyle.StateFlag.State_HasFocus else 1))
    painter.setBrush(fill)
    painter.drawRoundedRect(card, 8, 8)
    ink = palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
    painter.setPen(ink)

    title = QFont(option.font)
    title.setBold(True)
    if title.pointSizeF() > 0:
        title.setPointSizeF(title.pointSizeF() * 1.1)
    painter.setFont(title)
    top = QRect(box.x(), box.y(), box.width(), box.height() // 4)
    painter.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, header.name)

    count = QFont(option.font)
    count.setBold(True)
    count.setPixelSize(max(12, box.height() // 4))
    painter.setFont(count)
    middle = QRect(box.x(), box.y() + box.height() // 4, box.width(), box.height() // 2)
    painter.drawText(middle, Qt.AlignmentFlag.AlignCenter, f"{header.count:,}")

    painter.setFont(option.font)
    below = QRect(box.x(), box.y() + 3 * box.height() // 4, box.width(), box.height() // 4)
    what = "photos" if header.count != 1 else "photo"
    if header.town:
        what = f"{what} {header.town}"
    painter.drawText(below, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                     option.fontMetrics.elidedText(what, Qt.TextElideMode.ElideRight, below.width() - 4))
    hint = "1-9: label them all" if selected else "click: select them all"
    line = QRect(option.rect.x() + 4, box.bottom() + 2, option.rect.width() - 8,
                 option.rect.bottom() - box.bottom() - 4)
    painter.drawText(line, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                     option.fontMetrics.elidedText(hint, Qt.TextElideMode.ElideRight, line.width()))
    painter.restore()
