"""`python -m kb`: the kb command."""

import sys

from kb.cli.main import main

sys.exit(main())
