"""Signing in and out, the account page and the consumer console: the pages of a signed-in person."""
