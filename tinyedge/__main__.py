"""`python -m tinyedge` is the `tinyedge` command."""
import sys

from tinyedge.cli import main

sys.exit(main())
