"""The catalog's one exception type."""


class CatalogError(RuntimeError):
    """A catalog that cannot be opened, or an operation it refuses, with a message for the user."""
