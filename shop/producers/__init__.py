"""Producers (chủ thể OCOP): enterprises, cooperatives, cooperative groups and household businesses."""
