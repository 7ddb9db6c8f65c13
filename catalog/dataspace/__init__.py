"""The exchange as a data space: ODRL offers in pdr's closed profile, and the Dataspace Protocol's catalog."""
