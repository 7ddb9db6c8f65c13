"""The provider console's data resources and data products."""
