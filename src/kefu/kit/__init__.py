"""Shared foundations every domain stands on: database, clock, errors, events, i18n, security."""
