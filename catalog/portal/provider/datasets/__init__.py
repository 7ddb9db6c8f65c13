"""The provider console's datasets: metadata, versions, uploads and publishing."""
