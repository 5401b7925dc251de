"""The registry's storage: the interface (``base``), the folder and S3 backends, and the factory
that opens the one ``selenite serve`` was asked for."""
