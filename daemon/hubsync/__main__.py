from hubsync.cli import main
import sys
sys.exit(main())
