try:
    from lakeview.cli.main import main
except KeyboardInterrupt:  # Ctrl+C in the first few milliseconds, while the command line itself is imported
    raise SystemExit(130) from None

raise SystemExit(main())
