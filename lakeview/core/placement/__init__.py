"""Copying or moving photos into class folders: the plan, exclusive names, the journal, and undo."""
