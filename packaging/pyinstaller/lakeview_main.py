"""The bundle's entry point: the same `lakeview` command line, which opens the app when given no command."""

import multiprocessing
import sys

from lakeview.cli.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # data loader workers are spawned copies of this executable
    sys.exit(main())
