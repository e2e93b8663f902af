import sys

from hubsync.cli import main

sys.exit(main())
