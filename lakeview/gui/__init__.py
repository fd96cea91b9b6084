"""The PySide6 desktop app. It imports lakeview.core; the core never imports it."""
