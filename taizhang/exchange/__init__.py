"""Exchange with the systems above the county: ADX XML and DHIS2 dataValueSets JSON."""
