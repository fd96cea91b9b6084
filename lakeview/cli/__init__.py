"""The headless command line: `lakeview train | lr-find | evaluate | classify | undo`."""
