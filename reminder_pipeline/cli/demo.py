"""``reminders demo``: the whole product on generated data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from reminder_pipeline.cli.base import UserMistake, examples, main, writable_folder
from reminder_pipeline.cli.progress import bars


@main.command(
    epilog=examples(
        "reminders demo",
        "# a smaller, faster demo in another folder",
        "reminders demo --workdir /tmp/demo --invoices 1500 --days 60",
    )
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    callback=writable_folder,
    default=Path("data/demo"),
    show_default=True,
    help="The demo's own folder: made if missing, a previous demo in it deleted, any other content refused.",
)
@click.option("--invoices", default=12000, show_default=True, help="About how many invoices to generate.")
@click.option("--days", default=420, show_default=True, help="How many days of history, ending today.")
@click.option("--seed", default=7, show_default=True)
def demo(workdir: Path, invoices: int, days: int, seed: int) -> None:
    """Run the whole product on generated data in WORKDIR and print a summary."""
    from reminder_pipeline.demo.run import DemoPlan, WorkdirInUse, last_weekday, run
    from reminder_pipeline.demo.summary import summary_lines

    plan = DemoPlan(workdir.resolve(), invoices, days, seed, last_weekday(date.today()))
    try:
        run(plan, click.echo, bars())
    except (WorkdirInUse, RuntimeError) as exc:  # not the demo's folder, or a step failed (see its log)
        raise UserMistake(str(exc)) from exc
    for line in summary_lines(plan):
        click.echo(line)
