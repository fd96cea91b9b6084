"""The catalog: one SQLite database per photo library holding labels, corrections, predictions and models."""

from lakeview.core.catalog.store import Catalog, CatalogError, Label, NONE_OF_THESE

__all__ = ["Catalog", "CatalogError", "Label", "NONE_OF_THESE"]
