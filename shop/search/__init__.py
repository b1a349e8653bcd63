"""Finding products: the filtered, faceted listing (SQL) and full-text search (Whoosh, behind search.index)."""
