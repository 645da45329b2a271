import pytest
from hypothesis import given
from hypothesis import strategies as st

from fim.config import loader as config
from fim.core.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "fim.toml"
    p.write_text(text)
    return p


def test_missing_file_means_defaults():
    cfg = config.load(None)
    assert cfg.scan.max_file_size == 32 << 20
    assert cfg.rules.bundled is True


def test_sizes_accept_units(tmp_path):
    cfg = config.load(write(tmp_path, '[scan]\nmax_file_size = "512K"\nmax_hash_size = "1G"\n'))
    assert cfg.scan.max_file_size == 512 << 10
    assert cfg.scan.max_hash_size == 1 << 30


def test_unknown_key_is_rejected_with_a_suggestion(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, "[scan]\nmax_file_sise = 10\n"))
    assert "scan.max_file_sise: unknown key (did you mean 'scan.max_file_size'?)" in str(err.value)


def test_every_problem_is_reported_with_its_dotted_key(tmp_path):
    text = '[scan]\njobs = "four"\nexclude = "x"\n[tenants]\nfrom_owner = 1\n[nope]\n'
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, text))
    problems = err.value.problems
    assert any(p.startswith("scan.jobs: expected a whole number") for p in problems)
    assert any(p.startswith("scan.exclude: expected a list") for p in problems)
    assert any(p.startswith("tenants.from_owner: expected true or false") for p in problems)
    assert any(p.startswith("nope: unknown key") for p in problems)
    assert len(problems) == 4


def test_invalid_toml_names_the_file_and_position(tmp_path):
    path = write(tmp_path, "[scan\n")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert str(path) in str(err.value)
    assert "line 1" in str(err.value)


def test_bad_size_says_what_is_expected(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, '[scan]\nmax_file_size = "huge"\n'))
    assert "scan.max_file_size: expected a size such as 512K, 32M or 2G" in str(err.value)


def test_tenant_pattern_without_placeholder_is_rejected(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, '[tenants]\npatterns = ["/home/"]\n'))
    assert "tenants.patterns" in str(err.value)


def test_negative_numbers_are_rejected(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, "[scan]\nmatch_timeout = -1\n"))
    assert "scan.match_timeout: must not be negative" in str(err.value)


_values = st.one_of(
    st.integers(), st.booleans(), st.text(max_size=10), st.lists(st.integers(), max_size=3), st.floats()
)


@given(
    st.dictionaries(
        st.sampled_from(["scan", "rules", "hashes", "tenants", "database", "bogus"]),
        st.dictionaries(st.text(max_size=15), _values, max_size=4) | _values,
        max_size=4,
    )
)
def test_validator_never_crashes_it_accepts_or_reports(data):
    try:
        cfg = config.from_dict(data)
    except ConfigError as err:
        assert err.problems
        assert all(":" in p for p in err.problems)
    else:
        assert isinstance(cfg, config.Config)


@pytest.mark.parametrize("value", ["150", "-1", '"5%"', "true"])
def test_quarantine_min_free_percent_must_be_a_percentage(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, f"[quarantine]\nmin_free_percent = {value}\n"))
    assert "quarantine.min_free_percent: expected a percentage from 0 to 100" in str(err.value)


def test_quarantine_min_free_percent_defaults_to_five(tmp_path):
    assert config.load(write(tmp_path, "[quarantine]\nenabled = true\n")).quarantine.min_free_percent == 5.0
    zero = config.load(write(tmp_path, "[quarantine]\nmin_free_percent = 0\n"))
    assert zero.quarantine.min_free_percent == 0


def test_daemon_events_takes_auto_fanotify_or_inotify_and_names_the_key_otherwise(tmp_path):
    assert config.load(None).daemon.events == "auto"
    for value in ("auto", "fanotify", "inotify"):
        assert config.load(write(tmp_path, f'[daemon]\nevents = "{value}"\n')).daemon.events == value
    for bad in ('"fanotfy"', "true", '["inotify"]'):
        with pytest.raises(ConfigError) as err:
            config.load(write(tmp_path, f"[daemon]\nevents = {bad}\n"))
        (problem,) = err.value.problems
        assert problem.startswith("daemon.events: expected one of 'auto', 'fanotify', 'inotify'"), problem
