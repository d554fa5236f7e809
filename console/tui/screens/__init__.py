"""The console's screens, one module each; imported when first shown, never all at once."""
