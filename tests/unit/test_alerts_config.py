"""Alert config and hint files: valid templates load, mistakes name the file and the setting,
secrets never appear in errors or reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.alerts import AlertConfigError, load_alert_config
from pipeline.alerts.config import parse_quiet_window
from pipeline.alerts.hints import load_hints

DATA = Path(__file__).resolve().parents[2] / "pipeline" / "data"
EXAMPLE_ENV = {
    "SALESRADAR_WECOM_EAST_ROBOT_KEY": "k-secret-value",
    "SALESRADAR_WECOM_APP_SECRET": "s",
    "SALESRADAR_DINGTALK_NORTH_ROBOT_TOKEN": "t",
    "SALESRADAR_DINGTALK_NORTH_ROBOT_SECRET": "SEC",
    "SALESRADAR_DINGTALK_APP_SECRET": "a",
    "SALESRADAR_ALERT_WEBHOOK_SECRET": "w",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_secrets_from_env() -> None:
    config = load_alert_config(DATA / "alerts.example.toml", EXAMPLE_ENV)
    robot = config.endpoints["east_robot"]
    assert robot.key.get_secret_value() == "k-secret-value"
    assert "k-secret-value" not in repr(config)
    assert config.teams["east"].breach == ("east_robot",)
    assert config.quiet_hours.window_for("wangwu") is None
    assert config.quiet_hours.window_for("lisi") == parse_quiet_window("21:00-08:30")
    assert config.hints_file == DATA / "hints.toml"


def test_missing_env_var_names_file_and_setting(tmp_path: Path) -> None:
    path = write(tmp_path, '[endpoints.r]\nchannel = "wecom_robot"\nkey_env = "NOPE"\n')
    with pytest.raises(AlertConfigError) as caught:
        load_alert_config(path, {})
    assert str(caught.value) == (
        f"{path}: endpoints.r.key_env: environment variable 'NOPE' is not set"
    )


def test_unknown_endpoint_in_team_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[teams.east]\nbreach = ["ghost"]\n')
    with pytest.raises(AlertConfigError, match=r"teams\.east\.breach: unknown endpoint 'ghost'"):
        load_alert_config(path, {})


def test_bad_value_names_setting_and_hides_secret(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[endpoints.app]\nchannel = "wecom_app"\ncorp_id = "c"\nagent_id = "x1"\n'
        'secret_env = "S"\n',
    )
    with pytest.raises(AlertConfigError) as caught:
        load_alert_config(path, {"S": "very-secret"})
    message = str(caught.value)
    assert f"{path}: endpoints.app.wecom_app.agent_id:" in message
    assert "very-secret" not in message


def test_bad_quiet_hours_and_timezone_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AlertConfigError, match="quiet_hours.default"):
        load_alert_config(write(tmp_path, '[quiet_hours]\ndefault = "9pm-8am"\n'), {})
    with pytest.raises(AlertConfigError, match="timezone"):
        load_alert_config(write(tmp_path, 'timezone = "Mars/Olympus"\n'), {})


def test_invalid_toml_reports_position(tmp_path: Path) -> None:
    with pytest.raises(AlertConfigError, match=r"invalid TOML: .*line 1"):
        load_alert_config(write(tmp_path, "timezone = \n"), {})


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AlertConfigError, match=r"delivery\.rate_limt"):
        load_alert_config(write(tmp_path, "[delivery]\nrate_limt = 5\n"), {})


def test_optional_webhook_secret_may_be_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[endpoints.h]\nchannel = "webhook"\nurl = "http://x"\nsecret_env = ""\n'
    )
    assert load_alert_config(path, {}).endpoints["h"].secret is None


def test_no_path_gives_defaults_without_endpoints() -> None:
    config = load_alert_config(None, {})
    assert config.endpoints == {} and config.delivery.rate_limit == 20


def test_bundled_hints_load_and_name_every_signal() -> None:
    hints = load_hints(DATA / "hints.toml")
    assert hints.signal_name("objection_price") == "价格异议"
    assert len(hints.signal_names) == 12
    assert set(hints.signal_priority) == set(hints.signal_names)


def test_broken_hint_template_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "hints.toml"
    path.write_text('[signal]\nquote = "等待{waited"\n', encoding="utf-8")
    with pytest.raises(AlertConfigError, match=rf"{path}: signal\.quote: bad template"):
        load_hints(path)
