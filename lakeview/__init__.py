"""LakeView: teach a computer to recognise the places in your own photos."""

__version__ = "0.1.0"
