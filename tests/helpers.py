"""Small helpers the test files share: writing import files."""

import csv

# The columns of the events files the tests write (CONTRACTS.md "events").
EVENT_HEADER = [
    "id_number",
    "event",
    "date",
    "spouse_id_number",
    "child_id_number",
    "child_name",
    "child_sex",
    "delivery_place",
    "village",
    "method",
]


def write_csv(path, header, rows, encoding="utf-8"):
    """Write an import file (header, then rows) and return its path."""
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path
