"""When the library's catalog cannot be opened at start: say what is wrong and offer what can be done.

Each kind of problem (damaged, newer, not a catalog, busy, unwritable, disk full) has its own words and its
own choices; Quit is always there. Tests replace `StartupProblemDialog.ask` and `choose_library`.
"""

from __future__ import annotations

import enum
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout,
                               QWidget)

from lakeview import __version__
from lakeview.core.catalog import errors
from lakeview.core.catalog.recovery import CatalogUnrecoverable


class Choice(enum.Enum):
    RECOVER = "Recover…"
    START_FRESH = "Move it aside and start fresh"
    OPEN_OTHER = "Open another library…"
    RETRY = "Try again"
    QUIT = "Quit"


EXPLAINED = {
    Choice.RECOVER: "Recover copies every label and photo that can still be read into a fresh catalog; "
                    "the damaged file is kept beside it.",
    Choice.START_FRESH: "Start fresh renames the file (nothing is deleted) and begins an empty catalog in its "
                        "place; your photos are not touched.",
    Choice.OPEN_OTHER: "Open another library lets you choose a catalog file, or name a new one in a folder "
                       "you can write to.",
    Choice.RETRY: "Try again once the cause is fixed.",
}


def describe(problem: errors.CatalogError) -> tuple[str, list[Choice]]:
    """(heading, choices) for a problem; the problem's own message is shown under the heading."""
    if isinstance(problem, CatalogUnrecoverable):
        return ("The library's catalog is damaged beyond recovery.",
                [Choice.START_FRESH, Choice.OPEN_OTHER, Choice.QUIT])
    if isinstance(problem, errors.CatalogDamaged):
        return ("The library's catalog is damaged.",
                [Choice.RECOVER, Choice.START_FRESH, Choice.OPEN_OTHER, Choice.QUIT])
    if isinstance(problem, errors.CatalogTooNew):
        return (f"This library was saved by a newer LakeView. It needs a LakeView that reads catalog schema "
                f"{problem.version}; this is LakeView {__version__}, which reads up to schema {problem.known}.",
                [Choice.OPEN_OTHER, Choice.QUIT])
    if isinstance(problem, errors.NotACatalog):
        return ("The library's catalog file is not a LakeView catalog.",
                [Choice.START_FRESH, Choice.OPEN_OTHER, Choice.QUIT])
    if isinstance(problem, errors.CatalogLocked):
        return ("Another program is busy writing to the library's catalog.",
                [Choice.RETRY, Choice.OPEN_OTHER, Choice.QUIT])
    if isinstance(problem, errors.CatalogDiskFull):
        return ("The disk that holds the library is full.", [Choice.RETRY, Choice.OPEN_OTHER, Choice.QUIT])
    if isinstance(problem, errors.CatalogFolderUnwritable):
        return ("LakeView cannot write where the library is kept.", [Choice.RETRY, Choice.OPEN_OTHER, Choice.QUIT])
    return "The library's catalog cannot be opened.", [Choice.RETRY, Choice.OPEN_OTHER, Choice.QUIT]


class StartupProblemDialog(QDialog):
    """One button per choice; `choice` is the one clicked (Quit when the dialog is closed otherwise)."""

    def __init__(self, problem: errors.CatalogError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("LakeView cannot open the library")
        self.problem = problem
        self.choice = Choice.QUIT
        heading, self.choices = describe(problem)

        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.heading = QLabel(f"<b>{_escaped(heading)}</b>")
        self.detail = QLabel(_capitalised(str(problem)) + ".")
        self.help = QLabel(" ".join(EXPLAINED[c] for c in self.choices if c in EXPLAINED))
        for label in (self.heading, self.detail, self.help):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.help.setTextFormat(Qt.TextFormat.PlainText)

        text = QVBoxLayout()
        for label in (self.heading, self.detail, self.help):
            text.addWidget(label)
        text.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text, 1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.buttons: dict[Choice, QPushButton] = {}
        for choice in self.choices:
            button = self.buttons[choice] = QPushButton(choice.value)
            button.setAutoDefault(False)
            button.clicked.connect(lambda checked=False, c=choice: self._choose(c))
            buttons.addWidget(button)
        self.buttons[self.choices[0]].setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)
        self.setMinimumWidth(560)
        self.resize(560, max(self.heightForWidth(560), self.minimumSizeHint().height()))  # wrapped text, no gaps

    def _choose(self, choice: Choice) -> None:
        self.choice = choice
        self.accept()

    @classmethod
    def ask(cls, problem: errors.CatalogError) -> Choice:
        """Show the dialog and wait for a choice (tests replace this)."""
        dialog = cls(problem)
        dialog.exec()
        return dialog.choice


def choose_library(parent: QWidget | None = None) -> Path | None:
    """A catalog file to open, or a new one's name in a folder of the user's choice (tests replace this)."""
    dialog = QFileDialog(parent, "Open another library: choose its catalog, or name a new one")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
    dialog.setLabelText(QFileDialog.DialogLabel.Accept, "Open")
    dialog.setNameFilters(["LakeView catalogs (*.sqlite)", "All files (*)"])
    dialog.setDefaultSuffix("sqlite")
    dialog.selectFile("catalog.sqlite")
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
