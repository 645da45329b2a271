"""fim: find webshells and unwanted files in web-hosting upload areas.

The package is a library first; the ``fim`` command is a thin layer over it::

    import fim
    with fim.Store.open("fim.db") as store:
        report = fim.scan([b"/home"], store=store)
"""

from fim.core.errors import FimError
from fim.core.version import __version__
from fim.scanner.build import scan
from fim.store.database import Store

__all__ = ["FimError", "Store", "__version__", "scan"]
