from reminder_pipeline.cli import main

main()
