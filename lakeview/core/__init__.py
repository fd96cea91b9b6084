"""The headless engine, never importing Qt: photos, datasets, the catalog, placement, models and training
(ARCHITECTURE.md says which folder holds what)."""
