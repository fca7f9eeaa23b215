"""One module per CLI command; each exposes a click command, imported only when it runs."""
