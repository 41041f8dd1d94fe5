"""The register's tables as the indicator engine sees them: unbound Ibis tables.

The engine writes each figure once, as an Ibis expression over these tables, and
compiles it to the SQL dialect of whatever database holds them (Django's own
connection today; duckdb or Spark over an extract tomorrow). Only the columns the
indicators read are declared; the names are the Django tables' and columns'
(``taizhang.register.models``). Dates are ``YYYYMMDD`` integers and spells are
half-open ``[start, end)``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

residence_spells: ir.Table = ibis.table(
    {
        "id": "!int64",
        "person_id": "!int64",
        "village": "!string",
        "start": "!int32",
        "end": "!int32",
        "end_reason": "!string",
        "start_reason": "!string",
        "sex": "!string",
        "birth": "!int32",
    },
    name="register_residencespell",
)

union_spells: ir.Table = ibis.table(
    {
        "id": "!int64",
        "person_id": "!int64",
        "spouse_id": "int64",  # null when the spouse is not in the register
        "start": "!int32",
        "end": "!int32",
        "end_reason": "!string",
        "counts_marriage": "!boolean",
        "village_at_start": "!string",
    },
    name="register_unionspell",
)

method_spells: ir.Table = ibis.table(
    {
        "id": "!int64",
        "person_id": "!int64",
        "method": "!string",
        "start": "!int32",
        "end": "!int32",  # the day after the stop date
        "stop_reason": "!string",  # the method_stop reason; "death" when death ended it
    },
    name="register_methodspell",
)

birth_facts: ir.Table = ibis.table(
    {
        "id": "!int64",
        "event_id": "!int64",
        "mother_id": "!int64",
        "child_id": "!int64",
        "date": "!int32",
        "village": "!string",  # the mother's residence that day; '' when not resident
        "sex": "!string",
        "birth_order": "!int32",
        "mother_age": "!int32",
        "delivery_place": "!string",
        "recorded": "!int32",
    },
    name="register_birthfact",
)

persons: ir.Table = ibis.table(
    {
        "id": "!int64",
        "sex": "!string",
        "live_births_before": "!int32",
    },
    name="register_person",
)

# Service records kept by their own apps (``taizhang.benefits``, ``taizhang.cases``).
# Their dates are real dates (Django ``DateField``); Ibis writes the literals each
# dialect compares them with.

payments: ir.Table = ibis.table(
    {
        "id": "!int64",
        "person_id": "!int64",  # the beneficiary
        "village": "!string",  # where the beneficiary lived when the payment fell due
        "due_date": "!date",
        "paid_date": "date",
        "status": "!string",  # due | paid | returned | failed
    },
    name="benefits_payment",
)

cases: ir.Table = ibis.table(
    {
        "id": "!int64",
        "org_id": "!string",  # the org unit the case concerns (a village, township or county)
        "state": "!string",
        "conclude_due": "!date",
        "closed_on": "date",
    },
    name="cases_case",
)

# Life events as recorded (append-only): a correction is a later event naming the one it
# supersedes (kind "void" when it retracts it). Service encounters are counted from here.
events: ir.Table = ibis.table(
    {
        "id": "!int64",
        "person_id": "!int64",
        "kind": "!string",
        "date": "!date",
        "findings": "!string",  # ';'-separated, '' when none
        "stage": "!string",
        "supersedes_id": "int64",
        # When it was entered, in UTC (the register's time zone decides its day: ENTRY_ERROR_RATE).
        "recorded_at": "!timestamp",
    },
    name="register_event",
)

# Check-ins at service sessions (``taizhang.ledgers``): who attended on which day, and the
# register's event of the session (null when none was found).
attendances: ir.Table = ibis.table(
    {
        "id": "!int64",
        "person_id": "!int64",
        "date": "!date",
        "event_id": "int64",
    },
    name="ledgers_attendance",
)
