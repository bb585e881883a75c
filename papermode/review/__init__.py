"""Review: a person decides every value the machine doubts (queue, decisions, two-person rule)."""
