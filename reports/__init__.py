"""Model cards and compliance reports built from the store's evidence."""
