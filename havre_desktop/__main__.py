import sys

from havre_desktop.app import main

sys.exit(main())
