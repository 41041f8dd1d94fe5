"""Import of org units: ``code``, ``name``, ``parent``.

Rules: a code has 2, 4, 6, 9 or 12 digits; ``parent`` is empty only for a top
unit; a child's code starts with its parent's, which is shorter and is in the
register or in the same file (in any order). A known code with a new name is
renamed; a known code under another parent is an error.
"""

from __future__ import annotations

from taizhang.audit.actions import record as audit
from taizhang.orgunits.models import LEVEL_BY_LENGTH, OrgUnit


def run(ctx) -> dict[str, int]:
    table, errors = ctx.table, ctx.errors
    ix = table.index
    known = {o.code: o for o in OrgUnit.objects.all()}
    rows: dict[str, tuple[int, str, str]] = {}  # code -> (row, name, parent)
    for n, values in table.rows:
        code = values[ix["code"]]
        name = values[ix["name"]]
        parent = values[ix["parent"]] if "parent" in ix else ""
        if not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
            errors.add(
                n, "code", f"{code or '(empty)'} is not an org-unit code of 2, 4, 6, 9 or 12 digits"
            )
            continue
        if not name:
            errors.add(n, "name", "the name is empty")
            continue
        if len(name) > 100:
            errors.add(n, "name", "the name is longer than 100 characters")
            continue
        if parent and (not parent.isdigit() or len(parent) not in LEVEL_BY_LENGTH):
            errors.add(n, "parent", f"{parent} is not an org-unit code of 2, 4, 6, 9 or 12 digits")
            continue
        if parent and (len(parent) >= len(code) or not code.startswith(parent)):
            errors.add(n, "parent", f"code {code} does not start with its parent's code {parent}")
            continue
        if code in rows:
            first = rows[code]
            if first[1:] != (name, parent):
                errors.add(
                    n, "code", f"{code} is already on row {first[0]} with another name or parent"
                )
            continue
        rows[code] = (n, name, parent)

    for code, (n, _name, parent) in rows.items():
        if parent and parent not in known and parent not in rows:
            errors.add(
                n, "parent", f"the parent {parent} is neither in the register nor in this file"
            )
        old = known.get(code)
        if old is not None and (old.parent_id or "") != parent:
            errors.add(
                n,
                "parent",
                f"{code} is already in the register under {old.parent_id or 'no parent'}, not {parent or 'no parent'}",
            )
    if errors:
        return {}

    created = renamed = unchanged = 0
    # Parents before children: shorter codes first.
    for code, (_n, name, parent) in sorted(rows.items(), key=lambda kv: (len(kv[0]), kv[0])):
        old = known.get(code)
        if old is None:
            OrgUnit.objects.create(
                code=code, name=name, parent_id=parent or None, level=LEVEL_BY_LENGTH[len(code)]
            )
            created += 1
        elif old.name != name:
            audit(
                "orgunit_rename",
                user=ctx.user,
                object_type="orgunit",
                object_id=code,
                org_code=code,
                source="import",
                old=old.name,
                new=name,
            )
            old.name = name
            old.save(update_fields=["name"])
            renamed += 1
        else:
            unchanged += 1
    return {"created": created, "renamed": renamed, "unchanged": unchanged}
