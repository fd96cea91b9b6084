from lakeview.cli.main import main

raise SystemExit(main())
