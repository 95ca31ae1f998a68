"""Helpers shared by test modules: import from here (or use a conftest fixture), never from a test_* module."""
