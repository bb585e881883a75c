"""FHIR R4 census: a Bundle read resource by resource (Patient, Encounter, MedicationRequest with
its whole Dosage and Timing, AllergyIntolerance, Medication), or refused by name."""
