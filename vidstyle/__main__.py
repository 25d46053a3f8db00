import sys

from vidstyle.cli.main import main

sys.exit(main())
