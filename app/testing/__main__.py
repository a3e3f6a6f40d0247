import sys

from app.testing.server import main

sys.exit(main())
