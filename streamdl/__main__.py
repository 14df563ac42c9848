import sys

from streamdl.cli import main

sys.exit(main())
