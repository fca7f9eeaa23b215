"""Continuous integration: GitHub's API, the managed workflows and problem annotations."""
