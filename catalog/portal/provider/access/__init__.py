"""The provider console's exchange side: access requests to decide, grants given, download figures."""
