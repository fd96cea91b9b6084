"""An error rate in words, always with the number of photos it was measured on (0.0% on 12 photos says little)."""

from __future__ import annotations

from typing import Any


def error_text(rate: float | None, photos: int | None, which: str = "") -> str:
    """"1.3% error on 76 photos" ("on 76 held-out photos" with `which` "held-out"); "error not measured" when
    there is no figure."""
    if rate is None:
        return "error not measured"
    if photos is None:
        return f"{rate:.1%} error (number of photos not recorded)"
    kind = f"{which} " if which else ""
    return f"{rate:.1%} error on {photos} {kind}photo{'' if photos == 1 else 's'}"


def measured_photos(metrics: dict[str, Any]) -> int | None:
    """How many held-out photos a model version's error rate was measured on (first trainings and retrains
    record it under different names)."""
    for key in ("holdout_photos", "valid_photos"):
        if isinstance(metrics.get(key), int):
            return metrics[key]
    return None
