"""Monitoring: reference profiles, drift statistics, captured traffic and the retraining loop.

``stats`` holds the numbers (numpy, vectorised), ``profile`` what training stores with a
version, ``drift`` the comparison, ``report``/``chart`` its presentation, ``capture`` the
dependency-free request log the serving container writes, ``retrain`` the pull request that
proposes newer data, and ``warnings`` the cheap checks ``plan`` runs.
"""
