"""During the outage: inputs (files, folders, zips), the pipeline per file, worker processes."""
