"""The domain at the bottom of every layer.

Model, errors and exit codes, flags, settings, page ids, the printed page frame.
"""
