"""The headless engine: photos, datasets, models, training, inference. Never imports Qt."""
