"""Value types, errors, paths as bytes, state locations, value parsers: imports nothing else of fim."""
