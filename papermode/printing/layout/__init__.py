"""Layout per form: template + patient + orders -> exact boxes in millimetres (pure)."""
