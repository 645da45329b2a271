"""Rendering for people and machines: ECS events, text and JSON output."""
