"""HTTP routes of the ingest gateway."""
