"""Content tags and the providers they may reach."""
