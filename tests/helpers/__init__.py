"""Helpers shared by the tests: driving the CLI and breaking copies of the example repository."""
