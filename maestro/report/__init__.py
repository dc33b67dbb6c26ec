"""Formatters: plain result objects in, text out. Nothing here prints or knows about the CLI."""
