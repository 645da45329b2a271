"""[[alerts.sinks]] in TOML: every problem reported with its key, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest
from alert_support import make_service

from fim.alerts import AlertsConfig, AlertService
from fim.alerts.secret_values import Masker
from fim.config import loader as config
from fim.core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "fim.toml"
    path.write_text(text)
    return config.load(path)


def problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    return str(err.value)


def test_sinks_are_read_from_toml_with_their_filters(tmp_path):
    cfg = load(
        tmp_path,
        """
[alerts]
health_after = 600
[[alerts.sinks]]
name = "chat"
type = "apprise"
urls = ["mmost://chat.example.com/abcdefghijklmnopqrstuvwxyz"]
min_severity = "high"
tenants = ["alice"]
[[alerts.sinks]]
name = "siem"
type = "webhook"
url = "https://siem.example.com/ingest"
headers = { Authorization = "Bearer t0ken" }
max_batch = 100
""",
    )
    chat, siem = cfg.alerts.sinks
    assert (chat.name, chat.type, chat.min_severity, chat.tenants) == ("chat", "apprise", "high", ("alice",))
    assert chat.group_window == 30.0 and chat.mode == "immediate"
    assert siem.headers == {"Authorization": "Bearer t0ken"} and siem.max_batch == 100
    assert cfg.alerts.health_after == 600.0


def test_unknown_keys_and_keys_of_another_sink_type_are_rejected_with_their_dotted_key(tmp_path):
    text = problems(
        tmp_path,
        """
[[alerts.sinks]]
name = "x"
type = "jsonl"
path = "/var/log/fim.jsonl"
urll = "oops"
argv = ["/bin/true"]
""",
    )
    assert "alerts.sinks[0].urll: unknown key (did you mean 'alerts.sinks[0].url'?)" in text
    text = problems(
        tmp_path, '[[alerts.sinks]]\nname = "x"\ntype = "jsonl"\npath = "/x"\nargv = ["/bin/true"]\n'
    )
    assert "alerts.sinks[0].argv: does not apply to type 'jsonl'" in text


def test_an_invalid_apprise_url_is_a_config_error_naming_the_key_but_not_the_url(tmp_path):
    text = problems(
        tmp_path,
        '[[alerts.sinks]]\nname = "chat"\ntype = "apprise"\n'
        'urls = ["json://127.0.0.1/", "nosuchservice://s3cr3t-t0ken@x/"]\n',
    )
    assert "alerts.sinks[0].urls[1]: apprise cannot use this nosuchservice:// URL" in text
    assert "s3cr3t-t0ken" not in text


def test_missing_type_name_and_required_keys_are_reported(tmp_path):
    text = problems(tmp_path, '[[alerts.sinks]]\ntype = "webhook"\n[[alerts.sinks]]\nname = "b"\n')
    assert "alerts.sinks[0].name: required" in text
    assert "alerts.sinks[0].url: required (or url_file / url_env)" in text
    assert "alerts.sinks[1].type: required" in text


def test_exec_needs_an_absolute_program_path(tmp_path):
    text = problems(tmp_path, '[[alerts.sinks]]\nname = "c"\ntype = "exec"\nargv = ["notify-send", "x"]\n')
    assert "alerts.sinks[0].argv: the program must be an absolute path" in text


def test_duplicate_sink_names_are_rejected(db, tmp_path):
    sink = {"name": "same", "type": "jsonl", "path": str(tmp_path / "a")}
    with pytest.raises(ConfigError) as err:
        make_service(db, [sink, sink])
    assert "alerts.sinks[1].name: 'same' is used by another sink" in str(err.value)


def test_secrets_can_come_from_a_file_or_the_environment(db, tmp_path, monkeypatch):
    url_file = tmp_path / "hook.url"
    url_file.write_text("https://hooks.example.com/T0KEN-FROM-FILE\n")
    monkeypatch.setenv("FIM_TEST_HMAC", "hmac-from-env")
    service = make_service(
        db, [{"name": "hook", "type": "webhook", "url_file": str(url_file), "secret_env": "FIM_TEST_HMAC"}]
    )
    sink = service.targets[0].sink
    assert sink._url == "https://hooks.example.com/T0KEN-FROM-FILE" and sink._secret == b"hmac-from-env"
    assert "T0KEN" not in sink.describe()
    urls = tmp_path / "chat.urls"
    urls.write_text("# chat\njson://127.0.0.1:9/a\n\njson://127.0.0.1:9/b\n")
    service = make_service(db, [{"name": "chat", "type": "apprise", "url_file": str(urls)}])
    assert service.names == ["chat", "chat#2"]


def test_unreadable_secret_sources_are_config_errors(db, tmp_path, monkeypatch):
    monkeypatch.delenv("FIM_TEST_NOT_SET", raising=False)
    with pytest.raises(ConfigError) as err:
        make_service(db, [{"name": "h", "type": "webhook", "url_env": "FIM_TEST_NOT_SET"}])
    assert "alerts.sinks[0].url_env: the environment variable FIM_TEST_NOT_SET is not set" in str(err.value)
    with pytest.raises(ConfigError) as err:
        make_service(db, [{"name": "h", "type": "webhook", "url_file": str(tmp_path / "none")}])
    assert "alerts.sinks[0].url_file: cannot read" in str(err.value)


def test_a_bad_apprise_url_in_a_url_file_is_reported_without_the_url(db, tmp_path):
    urls = tmp_path / "chat.urls"
    urls.write_text("nosuchservice://s3cr3t-t0ken@x/\n")
    with pytest.raises(ConfigError) as err:
        make_service(db, [{"name": "chat", "type": "apprise", "url_file": str(urls)}])
    assert "alerts.sinks[0].url_file[0]: apprise cannot use" in str(err.value)
    assert "s3cr3t" not in str(err.value)


def test_the_service_needs_a_database_file():
    with pytest.raises(ConfigError):
        AlertService.from_config(config.Config().alerts, ":memory:")


def test_example_config_states_the_alert_defaults():
    assert config.load(EXAMPLE).alerts == AlertsConfig()


def test_fim_config_check_reports_an_invalid_apprise_url(fim, tmp_path):
    conf = tmp_path / "fim.toml"
    conf.write_text('[[alerts.sinks]]\nname = "chat"\ntype = "apprise"\nurls = ["bogus://p4ss@host"]\n')
    r = fim("config", "check", conf)
    assert r.code == 2 and b"alerts.sinks[0].urls[0]" in r.err and b"p4ss" not in r.err


def test_masker_hides_tokens_passwords_and_whole_urls_but_not_ordinary_words():
    masker = Masker()
    masker.add("mailtos://ops:Pa55word@smtp.example.com?to=a@example.com", url=True)
    masker.add("https://hooks.example.com/services/T0KEN1234567/hook", url=True)
    masker.add("hmac-key-value")
    text = masker.mask(
        "login ops:Pa55word failed; POST /services/T0KEN1234567/hook; key hmac-key-value; hooks"
    )
    assert text == "login ops:*** failed; POST /services/***/hook; key ***; hooks"


def test_every_sink_kind_is_one_module_with_its_keys_validation_and_build():
    import dataclasses

    from fim.alerts.config import COMMON_KEYS, SinkConfig
    from fim.alerts.sinks.registry import SINK_TYPES, kind

    fields = {f.name for f in dataclasses.fields(SinkConfig)}
    claimed = set(COMMON_KEYS)
    for name in SINK_TYPES:
        module = kind(name)
        assert name == module.TYPE
        assert fields >= module.KEYS, f"{name}: keys without a SinkConfig field: {module.KEYS - fields}"
        assert callable(module.validate) and callable(module.build)
        claimed |= module.KEYS
    assert fields == claimed, f"SinkConfig fields no kind uses: {fields - claimed}"


def test_reading_a_configuration_loads_only_the_sink_kinds_it_names():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from fim.config import loader\n"
        "loader.from_dict({'alerts': {'sinks': [{'name': 'w', 'type': 'jsonl', 'path': '/x'}]}})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fim.alerts.sinks.', 'apprise'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['fim.alerts.sinks.base', 'fim.alerts.sinks.jsonl', 'fim.alerts.sinks.registry']"
