import sys

from warmhandoff.streams.cli.main import main

sys.exit(main())
