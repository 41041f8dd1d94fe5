"""The monthly ledgers (台帐): declared work lists for a village and a month, rendered as
PDF, XLSX and CSV, each with row keys the filled-in files come back by, and archived."""
