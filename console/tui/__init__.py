"""The Textual console: screens that only call the services the CLI calls."""
