"""Copying or moving photos into class folders: the plan, exclusive names, the journal, undo, and the library's last
placement; `place_and_undo` is the one entry that every caller places and undoes through."""
