"""JSON log lines parse and carry the tenant/topic/partition/offset context."""

from __future__ import annotations

import logging

import orjson
import pytest

from pipeline.logging_json import JsonFormatter, at, configure_logging


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_line_has_standard_fields_and_extra_context(capsys, restore_root_logger) -> None:
    configure_logging("info", json=True)
    logging.getLogger("salesradar.normalize").warning(
        "rejected %s",
        "record",
        extra={
            "tenant": "acme",
            "topic": "salesradar.raw.wecom",
            "partition": 3,
            "offset": 42,
            "reason": "invalid_json",
        },
    )
    line = capsys.readouterr().err.strip()
    assert "\n" not in line
    entry = orjson.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "salesradar.normalize"
    assert entry["message"] == "rejected record"
    assert (entry["tenant"], entry["topic"], entry["partition"], entry["offset"]) == (
        "acme",
        "salesradar.raw.wecom",
        3,
        42,
    )
    assert entry["reason"] == "invalid_json"
    assert list(entry)[4:8] == ["tenant", "topic", "partition", "offset"]


def test_exceptions_and_unencodable_values_still_give_one_json_line() -> None:
    try:
        raise ValueError("bad payload")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed",
            None,
            __import__("sys").exc_info(),
            extra={"raw": b"\xff\x00", "obj": object()},
        )
    entry = orjson.loads(JsonFormatter().format(record))
    assert "ValueError: bad payload" in entry["exc_info"]
    assert entry["obj"].startswith("<object object")
    assert isinstance(entry["raw"], str)


def test_configure_twice_keeps_one_handler_and_plain_mode_is_text(
    capsys, restore_root_logger
) -> None:
    configure_logging(logging.DEBUG, json=True)
    configure_logging(logging.INFO, json=False)
    logging.getLogger("salesradar").info("hello")
    logging.getLogger("salesradar").debug("hidden")
    err = capsys.readouterr().err
    assert err.count("hello") == 1
    assert "hidden" not in err
    assert not err.lstrip().startswith("{")


def test_the_context_of_a_record_or_a_partition_becomes_fields(capsys, restore_root_logger) -> None:
    configure_logging("info", json=True)
    log = logging.getLogger("salesradar.process")
    log.info("resumes", extra=at("salesradar.raw.email", 2, 0, tenant="acme"))
    log.info("moved away", extra=at("salesradar.raw.email", 3))
    first, second = (orjson.loads(line) for line in capsys.readouterr().err.splitlines())
    assert list(first)[4:8] == ["tenant", "topic", "partition", "offset"]
    assert (first["topic"], first["partition"], first["offset"]) == ("salesradar.raw.email", 2, 0)
    assert (second["partition"], "offset" in second, "tenant" in second) == (3, False, False)
