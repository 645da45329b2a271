import dataclasses
from pathlib import Path

from fim.config import loader as config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_example_config_is_valid_and_states_the_defaults():
    loaded = config.load(EXAMPLE)
    defaults = config.Config()
    for section in (
        "scan",
        "rules",
        "hashes",
        "tenants",
        "database",
        "quarantine",
        "retention",
        "updates",
        "metrics",
    ):
        assert getattr(loaded, section) == getattr(defaults, section), section
    # [daemon] differs only by naming example roots (the default watches nothing).
    assert loaded.daemon == dataclasses.replace(defaults.daemon, roots=loaded.daemon.roots)
    assert loaded.daemon.roots


def test_example_config_turns_on_exactly_the_policy_shipped_in_code():
    loaded = config.load(EXAMPLE)
    defaults = config.Config()
    assert defaults.policy.enabled is False  # fim scan without a config: rules and hash lists only
    assert loaded.policy == dataclasses.replace(defaults.policy, enabled=True)
