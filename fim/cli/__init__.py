"""The ``fim`` command: thin click groups over the library."""
