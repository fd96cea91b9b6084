"""The grid model's roles: what a view can ask of a photo's row, and which roles each kind of change touches."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import Qt

_USER = int(Qt.ItemDataRole.UserRole)


class Role(IntEnum):
    """Custom roles. The three the delegate reads (Entry, Thumbnail, Colour) never return None, so painting
    hands no empty QVariant through Qt (PySide6 6.12.0 mishandled None for those on Python < 3.12)."""

    PathRole = _USER + 1   # Path
    LabelRole = _USER + 2  # str | None: the assigned label (may be NONE_OF_THESE)
    LabelSourceRole = _USER + 3  # 'imported' | 'user' | 'accepted' | None
    PredictedRole = _USER + 4  # str | None
    ConfidenceRole = _USER + 5  # float in [0, 1] | None
    ErrorRole = _USER + 6  # str | None: why the photo cannot be shown
    ThumbnailRole = _USER + 7  # QPixmap, null until it has arrived (asking for it)
    ColourRole = _USER + 8  # QColor: of the label's class, else the prediction's; else invalid
    CorrectedRole = _USER + 9  # bool: a person set the label (source 'user')
    EntryRole = _USER + 10  # PhotoEntry, for the delegate (one call instead of eight)


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ENTRY_FIELDS = {int(Role.PathRole): "path", int(Role.LabelRole): "label", int(Role.LabelSourceRole): "label_source",
                 int(Role.PredictedRole): "predicted", int(Role.ConfidenceRole): "confidence",
                 int(Role.ErrorRole): "error", int(Role.CorrectedRole): "corrected"}
"""The roles answered by a field of the row's entry, and which."""
_THUMBNAIL_ROLES = [_DECORATION, int(Role.ThumbnailRole)]
_ERROR_ROLES = [_DECORATION, _TOOLTIP, int(Role.ThumbnailRole), int(Role.ErrorRole)]
_LABEL_ROLES = [_TOOLTIP, int(Role.LabelRole), int(Role.LabelSourceRole), int(Role.ColourRole),
                int(Role.CorrectedRole), int(Role.EntryRole)]
_PREDICTION_ROLES = [_TOOLTIP, int(Role.PredictedRole), int(Role.ConfidenceRole), int(Role.ColourRole),
                     int(Role.EntryRole)]
