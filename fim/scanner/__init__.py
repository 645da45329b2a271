"""The pipeline: paths from a walk or events in, verdicts out; wires detect, store, respond and alerts."""
