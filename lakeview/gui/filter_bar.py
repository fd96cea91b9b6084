"""The toolbar above the grid: which photos to show (a filter and a file-name search), and, while the grid shows
chosen photos instead of the folder, what they are and a way back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPushButton, QToolBar, QWidget

from lakeview.core.catalog.grid_queries import REVIEW_QUEUE
from lakeview.gui.place_hints import BY_PLACE

FILTERS = {
    "All photos": {},
    "Review queue (least confident first)": REVIEW_QUEUE,
    "Review queue (pixels and place disagree first)": {**REVIEW_QUEUE, BY_PLACE: True},
    "By predicted class": {"order": "predicted"},
    "Unlabelled": {"unlabelled": True},
    "Corrected by me": {"corrected": True},
    "Label and prediction disagree": {"disagreements": True},
}


class FilterBar(QToolBar):
    filters_changed = Signal(dict)
    """The session's filters for the chosen entry and search text."""
    show_folder_requested = Signal()
    back_requested = Signal()
    """Back from similar photos or groups to the order the filter gives."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Filter", parent)
        self.setObjectName("filter")
        self.filter_box = QComboBox()
        self.filter_box.addItems(list(FILTERS))
        self.filter_box.currentTextChanged.connect(lambda _: self.filters_changed.emit(self.filters()))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search file names")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self.filters_changed.emit(self.filters()))
        self.showing = QLabel()
        self.show_folder_button = QPushButton("Show the whole folder")
        self.show_folder_button.clicked.connect(self.show_folder_requested)
        self.addWidget(QLabel(" Show: "))
        self.addWidget(self.filter_box)
        self.addWidget(self.search)
        self.showing_action = self.addWidget(self.showing)
        self.show_folder_action = self.addWidget(self.show_folder_button)
        self.order = QLabel()
        self.order.setObjectName("order")
        self.back_button = QPushButton("Back (Esc)")
        self.back_button.clicked.connect(self.back_requested)
        self.order_action = self.addWidget(self.order)
        self.back_action = self.addWidget(self.back_button)
        self.addSeparator()
        self.move_on = QCheckBox("Move to the next photo after labelling")
        self.move_on.setToolTip("On: a number key, Delete or Enter labels the selection and moves on to the next "
                                "photo without a label. Off: the selection stays where it is.")
        self.addWidget(self.move_on)
        self.show_chosen(None)
        self.show_order(None)

    def filters(self) -> dict:
        filters = dict(FILTERS[self.filter_box.currentText()])
        filters["search"] = self.search.text().strip() or None
        return filters

    def clear_quietly(self) -> None:
        """All photos, no search, without asking the session for rows it is about to replace."""
        for widget in (self.filter_box, self.search):
            widget.blockSignals(True)
        self.filter_box.setCurrentIndex(0)
        self.search.clear()
        for widget in (self.filter_box, self.search):
            widget.blockSignals(False)

    def show_chosen(self, chosen: tuple[str, list] | None) -> None:
        """(what they are, paths) while the grid shows chosen photos; None while it shows the folder."""
        self.showing.setText(f"  Showing {len(chosen[1])} photo(s): {chosen[0]}  " if chosen else "")
        self.showing_action.setVisible(chosen is not None)
        self.show_folder_action.setVisible(chosen is not None)

    def show_order(self, text: str | None) -> None:
        """What the grid's order is instead of the filter's ("Similar to IMG_0042.jpg", "Grouped: ..."), with
        the way back; None while it is the filter's."""
        self.order.setText(f"  {text}  " if text else "")
        self.order_action.setVisible(text is not None)
        self.back_action.setVisible(text is not None)
