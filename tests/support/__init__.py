"""The harness the tests and the benchmarks share: free ports, an isolated environment, the CLI in a
subprocess, a `selenite serve` process, seeding a registry, SeaweedFS and the hostile registry.

Nothing here is a test or a fixture: the conftest files wrap these in fixtures, and bench/ uses
them directly (it adds the repository root to ``sys.path``).
"""
