"""The audit log on the store: appending signed events, reading, verifying, checkpoints."""
