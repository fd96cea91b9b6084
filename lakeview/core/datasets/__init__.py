"""Labelled photos for training: fast.ai's ways in (class folders, CSV, name regex or function, lists) and the splits,
which keep near-duplicate groups on one side."""
