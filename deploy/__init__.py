"""Deployment: the nginx configuration's local runner and the production topology as local processes."""
