"""Census exports (FHIR R4 Bundle or CSV) into a typed, checked snapshot; order timing into scheduled times."""
