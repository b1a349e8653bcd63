"""Catalogue: OCOP product groups and products with their pages and images."""
