"""Census exports (FHIR R4 Bundle or CSV) -> a checked snapshot; order timing -> times."""
