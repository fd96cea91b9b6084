"""Which photos a classification has to do: those without a prediction from the model version used, or whose
content changed (by fingerprint) since that prediction was made. Chosen in SQL, whatever the library's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lakeview.core.photos.file_names import path_from_db


@dataclass
class ClassificationPlan:
    model_id: str
    total: int
    """The photos asked for (a folder, under its filters, or the given paths that the catalog knows)."""
    paths: list[Path] = field(default_factory=list)
    """The photos to classify, in the grid's order."""
    fingerprints: list[str] = field(default_factory=list)
    """Their fingerprints as the catalog knows them, one per path."""
    everything: bool = False

    @property
    def to_classify(self) -> int:
        return len(self.paths)

    @property
    def skipped(self) -> int:
        """Photos left alone: they have a prediction from this model, made on their content as it is."""
        return self.total - self.to_classify

    def describe(self) -> str:
        """"12,345 of 100,000 photos to classify"."""
        return f"{self.to_classify:,} of {self.total:,} photo{'' if self.total == 1 else 's'} to classify"

    def describe_skipped(self) -> str:
        """What was left alone and why, or "" when nothing was."""
        if not self.skipped:
            return ""
        many = self.skipped != 1
        return (f"{'all ' if not self.to_classify and many else ''}{self.skipped:,} photo{'s' if many else ''} "
                f"already classified by this model {'were' if many else 'was'} left alone")


class PlanRecords:
    def classification_plan(self, model_id: str, *, everything: bool = False, on_disk_only: bool = False,
                            **filters) -> ClassificationPlan:
        """The photos that the grid query `filters` picks (see `_grid_sql`: folder, paths, search...) and that
        `model_id` has to classify: all of them with `everything`, else those without its prediction on their
        current fingerprint. `on_disk_only` leaves out the photos flagged missing."""
        todo = "1" if everything else (
            "(pr.photo_id IS NULL OR pr.model_id IS NOT ? OR pr.fingerprint IS NOT p.fingerprint)")
        sql, args = self._grid_sql(f"p.path AS path, p.fingerprint AS fingerprint, p.missing AS missing, "
                                   f"{todo} AS todo", **filters)
        args = args if everything else [model_id, *args]
        kept = "NOT missing" if on_disk_only else "1"
        cursor = self._db.cursor()
        cursor.row_factory = None
        total = cursor.execute(f"SELECT COUNT(*) FROM ({sql}) WHERE {kept}", args).fetchone()[0]
        rows = cursor.execute(f"SELECT path, fingerprint FROM ({sql}) WHERE {kept} AND todo", args).fetchall()
        return ClassificationPlan(model_id, total, [path_from_db(path) for path, _ in rows],
                                  [fingerprint for _, fingerprint in rows], everything)
