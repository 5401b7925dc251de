"""selenite: the Git workflow for versioned datasets in a gypsum-style registry."""

__version__ = "0.1.0"
