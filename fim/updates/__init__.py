"""Signed rule packs: build and verify them, pull them over HTTPS, install them atomically.

A pack (:mod:`fim.updates.pack`) is a tar holding YARA rule files and hash lists, a manifest
naming each file's SHA-256, and an Ed25519 signature of the manifest. ``fim rules update`` and
the daemon fetch each configured source (:mod:`fim.updates.fetch`), verify everything in
memory, compile the rules, and only then swap the pack into fim's state directory
(:mod:`fim.updates.install`), where the engine builder picks it up.
"""
