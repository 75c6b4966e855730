"""`python -m prismaudio` is the `prismaudio` command."""

import sys

from prismaudio.cli import main

sys.exit(main())
