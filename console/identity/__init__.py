"""Identity services: who is acting, users and their keys."""
