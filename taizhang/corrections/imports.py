"""``taizhang import FILE --kind corrections``: corrections and retractions of recorded
events, one per row (docs/imports.md, "corrections").

The rules of every import hold: the file is one transaction, every bad row is reported
as ``row N: column: reason`` and then nothing is written, and the same file twice changes
nothing (a row whose correction was made before, with the same values and reason, is
unchanged). Each row goes through ``taizhang.corrections.actions.submit``: applied at once,
or waiting for the township's approval when the importer may not apply it herself.
"""

from __future__ import annotations

from taizhang.corrections import actions
from taizhang.corrections.models import Source

ACTIONS = {"correct": "correct", "更正": "correct", "retract": "retract", "撤销": "retract"}


def run(ctx) -> dict[str, int]:
    table, errors = ctx.table, ctx.errors
    requests = []
    for n, values in table.rows:

        def get(key: str, values=values) -> str:
            return table.get(values, key).strip()

        raw_id = get("event_id")
        if not raw_id.isdigit() or len(raw_id) > 18:
            errors.add(n, "event_id", f"{raw_id or '(empty)'} is not an event number")
            continue
        action = ACTIONS.get(get("action").lower())
        if action is None:
            errors.add(
                n, "action", f"{get('action') or '(empty)'} is not correct/更正 or retract/撤销"
            )
            continue
        wanted = {key: get(key) for key in ("event", *actions.EVENT_COLUMNS) if get(key)}
        requests.append(actions.Request(int(raw_id), action, get("reason"), wanted, row=n))
    results = actions.submit(
        requests, user=ctx.user, today=ctx.today, source=Source.IMPORT, batch=ctx.batch
    )
    counts = {"corrected": 0, "retracted": 0, "waiting_for_approval": 0, "unchanged": 0}
    for result in results:
        for e in result.errors:
            errors.add(result.request.row, e.column or "event_id", str(e))
        if result.status == "applied":
            counts["corrected" if result.request.action == "correct" else "retracted"] += 1
        elif result.status == "pending":
            counts["waiting_for_approval"] += 1
        elif result.status == "unchanged":
            counts["unchanged"] += 1
    return {} if errors else counts
