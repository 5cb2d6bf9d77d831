"""collabd: real-time collaborative Jupyter notebooks with one shared kernel per session."""

import sys

__version__ = "0.3.0"

# jsonschema, which nbformat imports, also imports rfc3987_syntax when it is installed (nbdime's
# jupyter_events asks for it) only to check the "iri" format, which nothing in collabd
# validates; importing it builds a grammar for 2 to 4 s at every hub and CLI start. It is marked
# absent for this process (jsonschema then skips that one format checker).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
