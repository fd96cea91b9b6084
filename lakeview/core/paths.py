"""Where LakeView keeps its files; every location can be moved by an environment variable (tests, portable use)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "lakeview"


def cache_dir() -> Path:
    """Downloaded weights and thumbnails: `$LAKEVIEW_CACHE_DIR`, else the platform's user cache folder."""
    return Path(os.environ.get("LAKEVIEW_CACHE_DIR") or platformdirs.user_cache_dir(APP))


def data_dir() -> Path:
    """Catalogs and models: `$LAKEVIEW_DATA_DIR`, else the platform's user data folder."""
    return Path(os.environ.get("LAKEVIEW_DATA_DIR") or platformdirs.user_data_dir(APP))
