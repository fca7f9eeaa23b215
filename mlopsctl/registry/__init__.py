"""The model registry: versions and environment assignments in the repository's Git tags.

Tags follow GTO's grammar (``iris@v3.0.0``, ``iris#production#7``) so ``gto show`` reads the
same registry; each version's tag message is a JSON record (artifact digests, metrics,
lineage), so everything is read back from Git alone. See :mod:`mlopsctl.registry.api`.
"""
