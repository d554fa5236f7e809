"""Registry services: models, immutable versions, datasets and their profiles, cards."""
