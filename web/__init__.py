"""Litestar controllers: a thin layer over the domain services."""
