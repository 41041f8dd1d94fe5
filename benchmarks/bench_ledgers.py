"""Ledger benchmark: the eleven monthly ledgers of a village, of a township, and the county.

    python benchmarks/bench_ledgers.py [--data DIR] [--persons 60000] [--seed 1]
                                       [--month YYYYMM] [--village CODE] [--township CODE]
                                       [--repeat 3] [--jobs 2]

The register comes from ``--data DIR`` (an existing ``TAIZHANG_DATA`` folder, e.g. a copy
of a full-size county: the benchmark stores the files it makes in that folder's archive,
with their records and audit entries) or else is generated with ``taizhang generate
--persons N --seed S`` into a temporary folder, removed at the end.

It times, in this order:

1. **one village-month**: all eleven ledgers of ``--village`` (default: the village of
   median size by residents, then the largest) for ``--month`` (default: the month before
   this one) as PDF, and again as XLSX — built from one set of queries, rendered,
   archived and audited, as ``taizhang ledgers`` does for each village — in one process,
   then as PDF with the ledgers shared among ``--jobs`` processes; ``--repeat`` times
   each, the median (goal: ≤ 5 s for the PDFs);
2. **a township**: ``taizhang ledgers --township T --month M --format pdf --jobs N`` as a
   user runs it (default township: the one with nearest to 20 villages), timed from start
   to exit;
3. **the county**, extrapolated from the township: its seconds per village × the county's
   villages, on the same ``--jobs`` processes (goal: ≤ 15 min);
4. **the way back**: the last village's check-up, screening, follow-up and education
   ledgers as XLSX with every row filled in (the month's last day), read back as
   ``taizhang ledger-return`` does — every row checked, its event recorded, the file
   archived — and the same files again (every row already returned: nothing written).

It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import BenchmarkError, taizhang_command, timed  # noqa: E402

VILLAGE_GOAL_S = 5.0
COUNTY_GOAL_S = 15 * 60


def _previous_month() -> str:
    first = dt.date.today().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y%m}"


def _setup(data: Path) -> None:
    os.environ["TAIZHANG_DATA"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
    from taizhang.cli import setup_django

    setup_django()


def _choose(args) -> tuple[list[str], str, int]:
    """The villages to time alone, the township and the number of villages in the county."""
    from django.db.models import Count

    from taizhang.orgunits.models import OrgUnit
    from taizhang.register.models import Person

    villages = OrgUnit.objects.villages()
    county_villages = villages.count()
    if args.village:
        chosen = [args.village]
    else:
        sizes = list(
            Person.objects.filter(status="resident")
            .values_list("current_village")
            .annotate(n=Count("id"))
            .order_by("n", "current_village")
        )
        chosen = [sizes[len(sizes) // 2][0], sizes[-1][0]]  # the median, the largest
    township = args.township
    if township is None:
        counts: dict[str, int] = {}
        for code in villages.values_list("code", flat=True):
            counts[code[:9]] = counts.get(code[:9], 0) + 1
        township = min(counts, key=lambda t: (abs(counts[t] - 20), t))
    return chosen, township, county_villages


def _village_month(
    village: str, month: str, file_format: str, out: Path
) -> tuple[float, float, int]:
    """Seconds for all eleven ledgers of one village in one format, the part of it spent in
    the queries, and the rows."""
    from taizhang.ledgers import service
    from taizhang.ledgers.base import Request
    from taizhang.ledgers.build import build_many, month_of
    from taizhang.ledgers.declarations import KINDS
    from taizhang.orgunits.models import OrgUnit

    unit = OrgUnit.objects.get(code=village)
    period = month_of(month)
    began = time.perf_counter()
    request = Request.village(village, period)
    queries = 0.0
    rows = 0
    for kind in KINDS:
        started = time.perf_counter()
        doc = build_many(kind, [unit], period, request=request)[village]
        queries += time.perf_counter() - started
        content = service.render(doc, file_format)
        service.archive_doc(doc, file_format, content, source="benchmark")
        (out / f"{kind}.{file_format}").write_bytes(content)
        rows += len(doc.rows)
    return time.perf_counter() - began, queries, rows


def _village_parallel(village: str, month: str, jobs: int, out: Path) -> float:
    """Seconds for all eleven ledgers of one village as PDF, the ledgers shared out among
    ``jobs`` processes (as ``taizhang ledgers --township VILLAGE --jobs N`` does)."""
    from taizhang.ledgers import service
    from taizhang.orgunits.models import OrgUnit

    unit = OrgUnit.objects.get(code=village)
    began = time.perf_counter()
    service.generate_many([unit], month, out / "parallel", formats=["pdf"], jobs=jobs)
    return time.perf_counter() - began


RETURNED_KINDS = ("checkup", "screening", "followup", "education")


def _filled_files(village: str, month: str, out: Path) -> list[tuple[Path, int]]:
    """The village's ledgers of ``RETURNED_KINDS`` as XLSX, every row filled in as a worker
    would (the date: the month's last day, when everyone listed lived there), with their
    rows."""
    import openpyxl

    from taizhang.ledgers import service
    from taizhang.ledgers.build import month_of
    from taizhang.ledgers.declarations import LEDGERS
    from taizhang.ledgers.render import HEADER_ROW

    last_day = month_of(month).end
    files = []
    for kind in RETURNED_KINDS:
        record, content = service.generate(kind, village, month, "xlsx", source="benchmark")
        path = out / f"filled-{kind}.xlsx"
        path.write_bytes(content)
        ledger = LEDGERS[kind]
        date_col = 2 + len(ledger.columns)  # the first fill-in column is the date
        book = openpyxl.load_workbook(path)
        sheet = book.worksheets[0]
        for n in range(record.rows):
            sheet.cell(HEADER_ROW + 1 + n, date_col).value = last_day
        book.save(path)
        files.append((path, record.rows))
    return files


def _return_files(files: list[tuple[Path, int]]) -> tuple[float, dict[str, int]]:
    """Seconds to read back and apply the files, and the counts summed."""
    from taizhang.ledgers.returns import return_file

    counts: dict[str, int] = {}
    began = time.perf_counter()
    for path, _rows in files:
        result = return_file(path.read_bytes(), path.name, source="benchmark")
        if not result.ok:
            raise BenchmarkError(f"{path.name} was refused: {result.errors[0]}")
        for k, v in result.counts.items():
            counts[k] = counts.get(k, 0) + v
    return time.perf_counter() - began, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="an existing TAIZHANG_DATA folder")
    parser.add_argument("--persons", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--month", default=_previous_month())
    parser.add_argument("--village")
    parser.add_argument("--township")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    temporary = None
    data = args.data
    if data is None:
        temporary = Path(tempfile.mkdtemp(prefix="bench-ledgers-"))
        data = temporary / "data"
        env = {**os.environ, "TAIZHANG_DATA": str(data)}
        env.pop("TAIZHANG_DATABASE_URL", None)
        print(f"generating a county of {args.persons:,} persons (seed {args.seed}) ...")
        seconds, _cpu, _out = timed(
            [
                *taizhang_command(),
                "generate",
                "--persons",
                str(args.persons),
                "--seed",
                str(args.seed),
            ],
            env,
            "taizhang generate",
        )
        print(f"  generated in {seconds:.1f} s")
    try:
        _setup(data)
        chosen, township, county_villages = _choose(args)
        print(f"register: {data}; month {args.month}; township {township}")
        out = Path(tempfile.mkdtemp(prefix="bench-ledgers-out-"))
        try:
            for village in chosen:
                for file_format in ("pdf", "xlsx"):
                    runs = [
                        _village_month(village, args.month, file_format, out)
                        for _ in range(args.repeat)
                    ]
                    total = statistics.median(r[0] for r in runs)
                    queries = statistics.median(r[1] for r in runs)
                    goal = f" (goal ≤ {VILLAGE_GOAL_S:.0f} s)" if file_format == "pdf" else ""
                    print(
                        f"village {village}, 11 ledgers as {file_format.upper()}, one process: "
                        f"median {total:.2f} s of which queries {queries:.2f} s; "
                        f"{runs[0][2]} rows; runs {', '.join(f'{r[0]:.2f}' for r in runs)}{goal}"
                    )
                runs = [
                    _village_parallel(village, args.month, args.jobs, out)
                    for _ in range(args.repeat)
                ]
                print(
                    f"village {village}, 11 ledgers as PDF, {args.jobs} processes: "
                    f"median {statistics.median(runs):.2f} s; "
                    f"runs {', '.join(f'{r:.2f}' for r in runs)} (goal ≤ {VILLAGE_GOAL_S:.0f} s)"
                )

            from taizhang.orgunits.models import OrgUnit

            villages = OrgUnit.objects.subtree(township).villages().count()
            env = {**os.environ, "TAIZHANG_DATA": str(data)}
            target = out / "township"
            seconds, cpu, _stdout = timed(
                [
                    *taizhang_command(), "ledgers", "--township", township, "--month", args.month,
                    "-o", str(target), "--format", "pdf", "--jobs", str(args.jobs),
                ],
                env,
                "taizhang ledgers",
            )  # fmt: skip
            files = sum(1 for _ in target.rglob("*.pdf"))
            size = sum(p.stat().st_size for p in target.rglob("*.pdf"))
            print(
                f"township {township}: {villages} villages, {files} PDFs ({size / 1e6:.1f} MB) "
                f"in {seconds:.1f} s on {args.jobs} processes (CPU {cpu:.1f} s); "
                f"{seconds / villages:.2f} s per village"
            )
            county = seconds / villages * county_villages
            print(
                f"county, extrapolated: {county_villages} villages × {seconds / villages:.2f} s "
                f"= {county / 60:.1f} min on {args.jobs} processes (goal ≤ {COUNTY_GOAL_S // 60} min)"
            )

            village = chosen[-1]
            files = _filled_files(village, args.month, out)
            rows = sum(r for _path, r in files)
            seconds, counts = _return_files(files)
            print(
                f"village {village}, {len(files)} filled ledgers returned: {rows} rows → "
                f"{counts['events']} events ({counts['events_unchanged']} already in the register) "
                f"in {seconds:.2f} s ({rows / seconds:.0f} rows/s)"
            )
            seconds, counts = _return_files(files)
            print(
                f"the same {len(files)} files again: {counts['already_returned']} rows already "
                f"returned, nothing written, in {seconds:.2f} s"
            )
        finally:
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
