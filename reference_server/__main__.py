"""`python -m reference_server`, the launch command issue 3 named, kept working after the server moved
into the one import root: it runs whip_whep_conformance.reference_server and defines nothing else."""

import sys

from whip_whep_conformance.reference_server.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
