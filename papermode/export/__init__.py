"""Exports: FHIR R4, CSV worklist, PDF reports."""
