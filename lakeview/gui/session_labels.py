"""The session's labels: a key press, Enter, undo and redo, written at once or, for many photos, in a worker
(CatalogWrites), and told to the window.

A mixin of LibrarySession: the signals it sends (labels_changed, photos_changed, rows_changed, classes_changed,
said) are the session's own, declared there."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from lakeview.core.catalog import NONE_OF_THESE, Catalog, CatalogError
from lakeview.core.catalog.labels import AcceptOutcome, HistoryStep
from lakeview.gui.catalog_writes import LARGE_WRITE


class SessionLabels:
    def assign(self, paths: list[Path], label: str | None, source: str = "user") -> bool:
        if not paths:
            return False
        return self._change_labels(lambda catalog: catalog.set_labels(paths, label, source), len(paths))

    def label_ids(self, photo_ids: list[int], label: str | None, source: str = "user") -> bool:
        """Label the grid's photos by id as one undoable action: at once for a few, in a worker for many (the
        grid follows when it is written). False when nothing changed, or nothing was asked."""
        if not photo_ids:
            return False
        return self._change_labels(lambda catalog: catalog.set_labels_of_ids(photo_ids, label, source),
                                   len(photo_ids))

    def _change_labels(self, change: Callable[[Catalog], int | None], count: int) -> bool:
        def write(catalog: Catalog) -> list[int]:
            action = change(catalog)
            return catalog.step_photo_ids(action) if action is not None else []

        return self._write(write, count, f"Labelling {count:,} photos…") is not False

    def _write(self, write: Callable[[Catalog], list[int]], count: int, what: str,
               then: Callable[[list[int]], None] | None = None) -> bool | None:
        """Run a change of the catalog's labels (it answers the photos it changed) and announce it. True or
        False: written now, and whether it changed any photo; None: written in a worker, announced when done."""
        large = count >= LARGE_WRITE
        answer: list[bool] = []

        def done(changed: list[int]) -> None:
            answer.append(self._announce_ids(changed))
            if then is not None:
                then(changed)

        def failed(message: str) -> None:
            self.said.emit(f"{what.rstrip('…')} failed: {message}")

        if large:
            self.said.emit(what)
        try:
            if self.writes.run(write, done, failed, large):
                return answer[0]
        except CatalogError as exc:
            failed(str(exc))
            return False
        return None

    def _note_corrections(self, count: int) -> None:
        """Corrections lead to a background retrain (after enough of them, or a quiet spell) once a model exists."""
        if count and self.catalog.active_model() is not None:
            self.scheduler.note_corrections(count)

    def assign_class_number(self, paths: list[Path], number: int) -> bool:
        names = self.class_names()
        if not 1 <= number <= len(names):
            return False
        return self.assign(paths, names[number - 1])

    def label_ids_with_number(self, photo_ids: list[int], number: int) -> bool:
        names = self.class_names()
        if not 1 <= number <= len(names):
            return False
        return self.label_ids(photo_ids, names[number - 1])

    def accept_predictions(self, paths: list[Path]) -> AcceptOutcome:
        """Enter: each photo's predicted class becomes its label (source 'accepted'), as one undo step; photos
        already labelled by the user or imported keep their label. The status bar says what happened."""
        outcome = self.catalog.accept_predictions(paths)
        if outcome.action is not None:
            self._announce_ids(self.catalog.step_photo_ids(outcome.action))
        if paths:
            self.said.emit(outcome.describe())
        return outcome

    def accept_ids(self, photo_ids: list[int]) -> bool:
        """`accept_predictions` for the grid's photos by id, in a worker when they are many. False when no label
        changed (the status bar says why)."""
        if not photo_ids:
            return False
        outcomes: list[AcceptOutcome] = []

        def write(catalog: Catalog) -> list[int]:
            outcomes.append(catalog.accept_predictions_of_ids(photo_ids))
            return catalog.step_photo_ids(outcomes[-1].action) if outcomes[-1].action is not None else []

        return bool(self._write(write, len(photo_ids), f"Accepting the predictions of {len(photo_ids):,} photos…",
                                then=lambda _: self.said.emit(outcomes[-1].describe())) is not False)

    def none_of_these(self, paths: list[Path]) -> bool:
        return self.assign(paths, NONE_OF_THESE)

    def next_undo(self) -> HistoryStep | None:
        """What Ctrl+Z would change (nothing is changed yet)."""
        return self.catalog.next_undo()

    def next_redo(self) -> HistoryStep | None:
        return self.catalog.next_redo()

    def undo(self, step: HistoryStep | None = None) -> HistoryStep | None:
        """Reverse the latest action (only if it is still `step`, when given); the status bar says what it was."""
        step = step or self.catalog.next_undo()
        return self._replay(step, lambda catalog: catalog.undo_ids(step.action) if step else [], "Undid")

    def redo(self, step: HistoryStep | None = None) -> HistoryStep | None:
        step = step or self.catalog.next_redo()
        return self._replay(step, lambda catalog: catalog.redo_ids(step.action) if step else [], "Redid")

    def replay_when_written(self, redo: bool = False) -> None:
        """Ctrl+Z (or redo) while a change is still being written: it queues behind that change and reverses
        whatever is latest by then; the status bar says what it did."""
        steps: list[HistoryStep | None] = []

        def write(catalog: Catalog) -> list[int]:
            steps.append(catalog.next_redo() if redo else catalog.next_undo())
            if steps[-1] is None:
                return []
            return (catalog.redo_ids if redo else catalog.undo_ids)(steps[-1].action)

        def said(changed: list[int]) -> None:
            verb = "Redid" if redo else "Undid"
            self.said.emit(f"{verb}: {steps[-1].describe()}" if changed and steps[-1] is not None
                           else f"Nothing to {'redo' if redo else 'undo'}")

        self._write(write, LARGE_WRITE, f"{'Redo' if redo else 'Undo'} once the change being written is done…",
                    then=said)

    def _replay(self, step: HistoryStep | None, replay: Callable[[Catalog], list[int]], done: str) -> HistoryStep | None:
        """The step (a large one is replayed in a worker, and said when done), or None when nothing changed."""
        if step is None:
            return None
        doing = {"Undid": "Undoing", "Redid": "Redoing"}[done]
        written = self._write(replay, step.count, f"{doing}: {step.describe()}…",
                              then=lambda changed: changed and self.said.emit(f"{done}: {step.describe()}"))
        return None if written is False else step

    def step_photos_elsewhere(self, step: HistoryStep) -> list[Path]:
        """The photos of a history step outside the open folder (or the photos chosen), filters aside."""
        if self.only is None and self.folder is not None and step.folder is not None \
                and step.folder.is_relative_to(self.folder):
            return []  # known from the step's summary: no need to read its rows
        shown = (dict(paths=self.only[1]) if self.only is not None else
                 dict(folder=self.folder) if self.folder is not None else {})
        return self.catalog.action_paths_outside(step.action, **shown)

    def _announce_ids(self, photo_ids: list[int]) -> bool:
        """Tell the window which photos' labels changed (re-read in one query); many are re-read by the grid as
        it shows them, and the grid's rows are queried again (a filter may now show or hide them)."""
        if not photo_ids:
            return False
        if len(photo_ids) >= LARGE_WRITE:
            self.photos_changed.emit(None)
            self.labels_changed.emit({})
            self.rows_changed.emit()
        else:
            rows = self.catalog.rows_of_ids(photo_ids)
            self.labels_changed.emit({row.path: (row.label, row.label_source if row.label is not None else None)
                                      for row in (rows[i] for i in photo_ids if i in rows)})
        self.classes_changed.emit()
        self._note_corrections(len(photo_ids))
        return True
