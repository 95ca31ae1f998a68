"""The outside world: e-mail servers (label printers talk through app/services/printing.py)."""
