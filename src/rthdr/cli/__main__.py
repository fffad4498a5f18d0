"""`python -m rthdr.cli`: the `rthdr` command, where the console script is not on PATH."""

import sys

from rthdr.cli.main import main

sys.exit(main())
