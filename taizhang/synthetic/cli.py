"""``taizhang generate``: fill an empty register with a synthetic county."""

from __future__ import annotations

import time

import typer

DEFAULT_PERSONS = 540_000
MAX_PERSONS = 5_000_000
FIGURES = ["POP_END", "BIRTHS", "DEATHS", "CBR", "CDR", "SRB", "CPR", "MWRA_SHARE"]
SERVICE_FIGURES = ["BENEFIT_PAID_RATE", "CASE_CLOSURE_RATE"]


def register(app: typer.Typer) -> None:
    """Add the ``generate`` command to the ``taizhang`` app."""
    app.command("generate")(generate_command)


def generate_command(
    persons: int = typer.Option(
        DEFAULT_PERSONS,
        "--persons",
        min=100,
        max=MAX_PERSONS,
        help="people living in the county on 2021-01-01",
    ),
    seed: int = typer.Option(
        1, "--seed", min=0, help="random seed: same persons and seed, same county"
    ),
) -> None:
    """Build a synthetic county (嵩县, 410325: 16 townships, 317 villages) in an empty register.

    Persons with valid resident IDs, households and their life events from 2021-01-01 up
    to yesterday, simulated month by month: births, deaths, marriages, moves, pregnancies,
    contraceptive methods chosen and stopped, and the services that follow (check-ups,
    screening, follow-ups, education); petitions, benefits and report forms. Every event
    goes through the register's own checks, nothing is dated after now, and the county is
    written in one transaction (whole or not at all). Prints the figures of the last full
    year. Refuses (exit status 1) if the register already holds persons.
    """
    from taizhang.cli import setup_django, user_errors

    setup_django()
    with user_errors():
        generate_county(persons=persons, seed=seed)


def generate_county(*, persons: int = DEFAULT_PERSONS, seed: int = 1) -> None:
    """Generate and write the county, showing progress, then print what was made.

    ``taizhang demo`` calls this too. Raises ``UserError`` if the register holds persons.
    """
    from taizhang.cli import progress_bar
    from taizhang.errors import UserError
    from taizhang.synthetic.write import GeneratorError, generate

    began = time.perf_counter()
    with progress_bar(PHASES) as progress:
        try:
            result = generate(persons, seed, user=_system_account(), progress=progress)
        except GeneratorError as e:
            raise UserError(
                f"the generator made events the register refuses (a bug): {e}"
            ) from None
    elapsed = time.perf_counter() - began
    for line in summary_lines(result, elapsed):
        typer.echo(line)


def summary_lines(result, elapsed: float) -> list[str]:
    """What was generated, and the indicators of the last full year it covers."""
    from taizhang.indicators.engine import compute

    county = result.county
    geo = county.geography
    written = result.written
    lines = [
        f"Generated {geo.county[1]} ({geo.county[0]}): {len(geo.townships)} townships, "
        f"{len(geo.villages)} villages, {written.households:,} households, "
        f"{written.persons + written.children:,} persons ({written.children:,} born in the "
        f"register), {written.events:,} events; seed {result.seed}, {elapsed:.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in result.seconds.items())})."
    ]
    made = result.services
    if made:
        lines.append(
            f"Services: {made.get('cases', 0):,} petitions; {made.get('enrolled', 0):,} benefit "
            f"enrolments ({made.get('rejected', 0):,} candidates rejected), "
            f"{made.get('payments', 0):,} payment outcomes recorded."
        )
    year = str(last_full_year(county.end))
    figures = {
        row["code"]: row
        for row in compute(geo.county[0], year, codes=FIGURES + SERVICE_FIGURES)["indicators"]
    }

    def value(code: str) -> str:
        v = figures[code]["value"]
        return "n/a" if v is None else f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"

    lines.append(
        f"{year}: population {value('POP_END')} at the end, {value('BIRTHS')} births, "
        f"{value('DEATHS')} deaths; crude birth rate {value('CBR')}‰, death rate "
        f"{value('CDR')}‰, sex ratio at birth {value('SRB')}, contraceptive prevalence "
        f"{value('CPR')}%, married women 15-49 {value('MWRA_SHARE')}% of the population; "
        f"benefit payments on time {value('BENEFIT_PAID_RATE')}%, petitions concluded on time "
        f"{value('CASE_CLOSURE_RATE')}%."
    )
    return lines


def last_full_year(end) -> int:
    """The last calendar year a county simulated to ``end`` covers whole."""
    return end.year if (end.month, end.day) == (12, 31) else end.year - 1


def _system_account():
    """Work done from the command line is recorded under the system account."""
    from django.contrib.auth import get_user_model

    account, created = get_user_model().objects.get_or_create(username="taizhang")
    if created:
        account.set_unusable_password()
        account.save()
    return account


# What each phase of the generation does, as the progress shows it.
PHASES = {
    "simulate": "simulating the county month by month",
    "persons": "writing persons",
    "events": "checking and writing events",
    "services": "petitions and benefits: cases, enrolments, payment lists",
}
