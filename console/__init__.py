"""signoff's application package: store, services, CLI and console."""
