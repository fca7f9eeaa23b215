"""The ground floor: atomic writes, file digests with one stat cache, the one git runner, and where
the project's own templates/ and schemas/ are. Imports nothing of mlopsctl but errors."""
