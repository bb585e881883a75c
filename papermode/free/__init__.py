"""Photos of screens and paper notes.

OCR (every Tesseract call), medication lines, patient links, search.
"""
