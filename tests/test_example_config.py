from pathlib import Path

from fim import config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_example_config_is_valid_and_states_the_defaults():
    loaded = config.load(EXAMPLE)
    defaults = config.Config()
    for section in ("scan", "rules", "hashes", "tenants", "database"):
        assert getattr(loaded, section) == getattr(defaults, section), section
