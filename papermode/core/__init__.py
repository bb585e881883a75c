"""The domain at the bottom of every layer: model, errors and exit codes, settings, page ids, the printed page frame."""
