"""The web portal: server-rendered public pages over the same services as the API."""
