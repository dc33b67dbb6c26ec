"""The command line: one module per command, each thin; the error boundary lives in ``app``."""
