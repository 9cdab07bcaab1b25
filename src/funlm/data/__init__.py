"""Data the course generates or ships (shipped files: ``data/files/``, with their licences)."""
