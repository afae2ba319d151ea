import sys

from clavain.cli import main

sys.exit(main(sys.argv[1:]))
