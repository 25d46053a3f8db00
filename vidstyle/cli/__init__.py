"""Command-line interface: argument parsing only; every command calls the Python API."""
