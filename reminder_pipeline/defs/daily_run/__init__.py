"""The daily run across domains: one job, its schedule and the drop-folder sensor."""

import dagster as dg

from reminder_pipeline.defs.daily_run.automation import daily_run, daily_run_schedule, drop_folder_sensor

defs = dg.Definitions(jobs=[daily_run], schedules=[daily_run_schedule], sensors=[drop_folder_sensor])
