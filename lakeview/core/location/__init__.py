"""Location hints: what the labelled photos taken near a photo say it is, and the offline name of the place."""
