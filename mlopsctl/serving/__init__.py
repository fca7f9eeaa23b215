"""Serving: the Docker engine, image build contexts, the user code shipped in images and the
managed serving files (Dockerfile, serve.py)."""
