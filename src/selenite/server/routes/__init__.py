"""The HTTP routes, one module per family (read, upload, admin, selenite extras)."""
