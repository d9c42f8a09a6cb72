"""``reminders preview``: one example message as a customer would receive it."""

from __future__ import annotations

from pathlib import Path

import click

from reminder_pipeline.cli.base import INPUT_FILE, examples, main
from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import CHANNEL_NAMES


@main.command(
    epilog=examples(
        "reminders preview",
        "reminders preview --locale de_DE --channel sms --ladder high_risk --step final_notice",
        "reminders preview --templates my_templates/ --html",
    )
)
@click.option("--locale", default="en_GB", show_default=True, help="The customer's locale, e.g. de_DE, fr_CA.")
@click.option("--channel", type=click.Choice(CHANNEL_NAMES), default=Channel.EMAIL.value, show_default=True)
@click.option("--ladder", default="standard", show_default=True)
@click.option("--step", default="reminder", show_default=True)
@click.option("--invoices", default=2, show_default=True, type=click.IntRange(1, 20))
@click.option("--policy", "policy_path", type=INPUT_FILE, help="Policy file (default: the shipped one).")
@click.option(
    "--templates",
    "templates_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Templates folder (default: the shipped one).",
)
@click.option("--html", is_flag=True, help="Also print the HTML body of an email.")
def preview(
    locale: str,
    channel: str,
    ladder: str,
    step: str,
    invoices: int,
    policy_path: Path | None,
    templates_path: Path | None,
    html: bool,
) -> None:
    """Write one example message with fictional data, as a customer would receive it (nothing is stored)."""
    from datetime import UTC, datetime

    from reminder_pipeline.config_files import load_policy, load_templates
    from reminder_pipeline.core.rendering.links import LinkSigner
    from reminder_pipeline.core.rendering.preview import example_message
    from reminder_pipeline.core.rendering.render import RenderContext, render_messages

    policy = load_policy(policy_path)
    now = datetime.now(UTC)
    messages, lines = example_message(
        policy, locale=locale, channel=channel, ladder=ladder, step=step, invoices=invoices, today=now.date()
    )
    context = RenderContext(policy, load_templates(templates_path), LinkSigner("preview-only-" * 2), now)
    row = render_messages(messages, lines, context).row(0, named=True)
    header = f"[{row['template']}, written for {row['locale']}]"
    if channel == Channel.SMS:
        header += f" {row['sms_encoding']}, {row['sms_segments']} part(s), {len(row['body_text'])} characters"
    parts = [header]
    if row["subject"]:
        parts.append(f"Subject: {row['subject']}")
    parts.append(row["body_text"])
    if html and row["body_html"]:
        parts += ["", row["body_html"]]
    click.echo("\n\n".join(parts))
