"""The provider console's pages."""
