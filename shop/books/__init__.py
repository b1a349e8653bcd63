"""The books: read-only checks that stock and money agree across the domains (`flask books verify`)."""
