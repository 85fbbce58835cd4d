"""The only Qt code (with app/main.py): bridge, windows, overlay, model, dialogs."""
