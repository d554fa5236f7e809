"""Widgets and modals the screens share; they read nothing themselves, their screen feeds them."""
