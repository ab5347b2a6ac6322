"""Splitting user files into raw records without losing any."""

from pathlib import Path

import orjson

from pipeline.readers import read_records

FIXTURES = Path(__file__).parents[1] / "fixtures"


def write(tmp_path: Path, data: bytes, name: str = "input") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_json_lines_with_bom_crlf_empty_lines_and_garbage(tmp_path):
    data = b'\xef\xbb\xbf{"a":1}\r\n\r\n   \n{"b":2}\r\nnot json at all\n{"c":'
    records = list(read_records(write(tmp_path, data), "wecom"))
    assert records == [b'{"a":1}', b'{"b":2}', b"not json at all", b'{"c":']


def test_a_line_that_is_an_array_stays_one_record(tmp_path):
    data = b'[{"sg_event_id":"1"},{"sg_event_id":"2"}]\n[{"sg_event_id":"3"}]\n'
    records = list(read_records(write(tmp_path, data), "email"))
    assert [orjson.loads(r) for r in records] == [
        [{"sg_event_id": "1"}, {"sg_event_id": "2"}],
        [{"sg_event_id": "3"}],
    ]


def test_whole_file_array_yields_elements(tmp_path):
    data = b'[\n  {"logId": "1"},\n  {"logId": "2"}\n]\n'
    records = list(read_records(write(tmp_path, data), "crm"))
    assert [orjson.loads(r) for r in records] == [{"logId": "1"}, {"logId": "2"}]


def test_concatenated_xml_callbacks_and_stray_text(tmp_path):
    one = (FIXTURES / "wecom" / "add_external_contact.xml").read_bytes().strip()
    two = (FIXTURES / "wecom" / "change_external_tag.xml").read_bytes().strip()
    data = one + b"\n" + two + b"\n<xml><broken>"
    records = list(read_records(write(tmp_path, data), "wecom"))
    assert records == [one, two, b"<xml><broken>"]


def test_xml_declaration_stays_with_its_document(tmp_path):
    data = b'<?xml version="1.0"?><xml><A>1</A></xml>\n<?xml version="1.0"?><xml><A>2</A></xml>'
    records = list(read_records(write(tmp_path, data), "wecom"))
    assert records == [
        b'<?xml version="1.0"?><xml><A>1</A></xml>',
        b'<?xml version="1.0"?><xml><A>2</A></xml>',
    ]


def test_an_eml_file_is_one_email_record(tmp_path):
    eml = (FIXTURES / "email" / "mailbox_rep_reply.eml").read_bytes()
    assert list(read_records(write(tmp_path, eml, "m.eml"), "email")) == [eml]


def test_empty_file_yields_nothing(tmp_path):
    assert list(read_records(write(tmp_path, b"\n\r\n"), "crm")) == []
