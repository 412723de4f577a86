"""Routing engine for a city's 12345 government service hotline merge."""
