"""Before the outage: templates, layout of every form (in mm), PDF, manifest, prepare."""
