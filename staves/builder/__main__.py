"""``python3 -m staves.builder PLAN-FILE``; the zipapp's own ``__main__`` runs this."""

import sys

from .main import serve

sys.exit(serve(sys.argv))
