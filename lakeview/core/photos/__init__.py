"""One photo on disk: what kind of file it is, how its name is shown and stored, decoding it safely, its fingerprint
and its perceptual hash."""
