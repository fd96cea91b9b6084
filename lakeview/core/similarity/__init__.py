"""Similar photos: body features of a library's photos (kept in its feature store), groups of similar photos, and
the photos nearest to one."""
