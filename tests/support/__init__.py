"""Helpers and fakes shared by tests (no test imports another test file)."""
