"""Comparisons with other programs (Pythia 8), used by tests and benchmarks.

Not part of the installed packages: it lives at the repository root beside ``tests/`` and
``benchmarks/`` (pytest puts the root on ``sys.path``; benchmark scripts insert it).
"""
