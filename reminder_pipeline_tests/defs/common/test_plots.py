"""Charts in metadata: one per run, for its last day."""

from datetime import date

import dagster as dg

from reminder_pipeline.defs.common.plots import bar_chart, chart_of_the_runs_last_day

LAST = date(2026, 3, 31)


def test_only_the_runs_last_day_draws_its_chart_and_the_others_say_where_it_is() -> None:
    drawn: list[date] = []

    def draw(day: date) -> dg.MarkdownMetadataValue:
        drawn.append(day)
        return bar_chart(["a", "b"], [1, 2], title=f"chart {day}", unit="rows")

    days = [date(2026, 3, 29), date(2026, 3, 30), LAST]
    charts = {day: chart_of_the_runs_last_day(day, LAST, lambda d=day: draw(d), figures="aging") for day in days}
    assert drawn == [LAST]
    assert "data:image/png;base64," in str(charts[LAST].value)
    assert str(charts[days[0]].value) == "Drawn for the run's last day, 2026-03-31; this day's figures: `aging`."
