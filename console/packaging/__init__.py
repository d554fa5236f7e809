"""Packaging services: deterministic, signed model packages and their offline verification."""
