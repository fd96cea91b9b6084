"""The nearest town to a position, without the internet: reverse_geocode's GeoNames table of places of 1,000
people or more, shipped with the package. Loading it takes about 1.3 s (0.6 s to import, 0.6 s to read and index
the table; measured on this project's 2-core machine), so it is loaded once, on first use or ahead of it with
`load_place_names` in a worker; a lookup after that takes about 0.1 ms."""

from __future__ import annotations

import csv
import threading
import time

_lock = threading.Lock()
_geocoder = None
load_seconds: float | None = None
"""How long the load took, once it has happened."""


def load_place_names() -> float:
    """Load the table (once; later calls return at once) and return the seconds the load took."""
    global _geocoder, load_seconds
    with _lock:
        if _geocoder is None:
            started = time.perf_counter()
            limit = csv.field_size_limit()
            try:
                import reverse_geocode  # it raises the process's CSV field limit to 2 GB on import

                _geocoder = reverse_geocode.GeocodeData()
            finally:
                csv.field_size_limit(limit)  # a CSV of labels must still be refused past 128 KB a cell
            load_seconds = time.perf_counter() - started
    return load_seconds


def place_names_loaded() -> bool:
    return _geocoder is not None


def place_name(latitude: float, longitude: float) -> str:
    """'near Banff, Alberta, CA': the nearest town of the table, its region and country code. Loads the table
    on first use (see the module's note); "" when the table knows no place."""
    load_place_names()
    try:
        found = _geocoder.query([(latitude, longitude)])[0]
    except (IndexError, KeyError, ValueError):
        return ""
    parts = [found.get("city"), found.get("state"), found.get("country_code")]
    named = ", ".join(part for part in parts if part)
    return f"near {named}" if named else ""
