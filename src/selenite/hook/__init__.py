"""Git hooks selenite installs (``install``); the check the pre-commit hook runs is ``selenite.check``."""
