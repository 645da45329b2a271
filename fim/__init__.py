"""fim: find webshells and unwanted files in web-hosting upload areas.

The package is a library first; the ``fim`` command is a thin layer over it::

    import fim
    with fim.Store.open("fim.db") as store:
        report = fim.scan([b"/home"], store=store)
"""

__version__ = "0.1.0"

from fim.errors import FimError
from fim.scanner import scan
from fim.store import Store

__all__ = ["FimError", "Store", "__version__", "scan"]
