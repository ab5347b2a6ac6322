"""A ClickHouse-HTTP-compatible endpoint that runs every request on chDB.

It lets the tests drive the server backend (clickhouse-connect) end to end without a ClickHouse
server: real ClickHouse parses the real queries and the Native inserts clickhouse-connect sends.
Run as `python chdb_http.py DATA_DIR PORT_FILE`: it binds a free port on 127.0.0.1, writes the
port to PORT_FILE, and serves until killed. One request at a time (chDB is not re-entrant).
"""

from __future__ import annotations

import re
import sys
import tempfile
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from chdb import session

#: URL parameters that are part of the HTTP protocol, not query settings.
_PROTOCOL_PARAMS = {
    "query",
    "database",
    "session_id",
    "session_timeout",
    "session_check",
    "query_id",
    "default_format",
    "user",
    "password",
    "compress",
    "decompress",
    "quota_key",
    "buffer_size",
    "wait_end_of_query",
    "enable_http_compression",
    "http_headers_progress_interval_ms",
    "send_progress_in_http_headers",
}
_NATIVE_INSERT = re.compile(
    rb"^\s*INSERT\s+INTO\s+(?P<table>[\w.`\"]+)\s*(?P<columns>\([^)]*\))?\s*FORMAT\s+Native\s*$",
    re.IGNORECASE,
)
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ERROR_CODE = re.compile(r"Code: (\d+)")


def _literal(value: str) -> str:
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class ChdbHttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    chdb_session: session.Session
    spool_dir: Path
    session_settings: dict[str, str] = {}  # what the one chDB session currently has SET

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        """Quiet: the tests read results, not access logs."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _respond(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        self._handle(self._read_body())

    def _handle(self, body: bytes) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/ping":
            self._respond(200, b"Ok.\n", {"Content-Type": "text/plain"})
            return
        query_id = params.get("query_id") or str(uuid.uuid4())
        headers = {
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Server-Display-Name": "chdb-http",
            "X-ClickHouse-Summary": '{"read_rows":"0","read_bytes":"0","written_rows":"0",'
            '"written_bytes":"0","total_rows_to_read":"0","result_rows":"0","result_bytes":"0"}',
        }
        try:
            output, fmt = self._execute(params, body)
        except Exception as error:  # every failure goes back to the client as ClickHouse would
            message = str(error).strip() or type(error).__name__
            code = _ERROR_CODE.search(message)
            headers["X-ClickHouse-Exception-Code"] = code.group(1) if code else "1000"
            headers["Content-Type"] = "text/plain; charset=UTF-8"
            self._respond(500, message.encode("utf-8") + b"\n", headers)
            return
        headers["X-ClickHouse-Format"] = fmt
        headers["Content-Type"] = "application/octet-stream"
        self._respond(200, output, headers)

    def _execute(self, params: dict[str, str], body: bytes) -> tuple[bytes, str]:
        settings = {
            key: value
            for key, value in params.items()
            if key not in _PROTOCOL_PARAMS and not key.startswith("param_")
        }
        bind = {
            key[len("param_") :]: value for key, value in params.items() if key.startswith("param_")
        }
        if params.get("database"):
            self.chdb_session.query(f"USE `{params['database']}`")
        query = params.get("query", "")
        # the insert statement comes in the `query` parameter or as the body's first line
        first_line, _, rest = body.partition(b"\n")
        in_query = _NATIVE_INSERT.match(query.encode())
        insert = in_query or _NATIVE_INSERT.match(first_line)
        if insert:
            self._insert_native(insert, body if in_query else rest, settings)
            return b"", "Native"
        sql = (query + "\n" + body.decode("utf-8")) if query and body else (query or body.decode())
        fmt = params.get("default_format") or "TabSeparated"
        return self._run_with_settings(sql, fmt, settings, bind), fmt

    def _insert_native(self, match: re.Match[bytes], data: bytes, settings: dict[str, str]) -> None:
        table = match.group("table").decode()
        columns = (match.group("columns") or b"").decode()
        spool = self.spool_dir / f"{uuid.uuid4().hex}.native"
        spool.write_bytes(data)
        try:
            clause = ", ".join(
                f"{key} = {_literal(value)}"
                for key, value in settings.items()
                if _SETTING_NAME.match(key)
            )
            sql = f"INSERT INTO {table} {columns} SELECT * FROM file('{spool}', 'Native')"
            if clause:
                sql += f" SETTINGS {clause}"
            self.chdb_session.query(sql)
        finally:
            spool.unlink(missing_ok=True)

    def _run_with_settings(
        self, sql: str, fmt: str, settings: dict[str, str], bind: dict[str, str]
    ) -> bytes:
        """Make the session settings equal this request's URL settings, then run the query.

        Only changes are SET: clients send the same settings on every request.
        """
        wanted = {key: value for key, value in settings.items() if _SETTING_NAME.match(key)}
        for key in [key for key in self.session_settings if key not in wanted]:
            self.chdb_session.query(f"SET {key} = DEFAULT")
            del self.session_settings[key]
        for key, value in wanted.items():
            if self.session_settings.get(key) != value:
                self.chdb_session.query(f"SET {key} = {_literal(value)}")
                self.session_settings[key] = value
        if bind:
            return self.chdb_session.query(sql, fmt, params=bind).bytes()
        return self.chdb_session.query(sql, fmt).bytes()


def serve(data_dir: Path, port_file: Path) -> None:
    """Serve on a free localhost port until the process is killed."""
    ChdbHttpHandler.chdb_session = session.Session(str(data_dir))
    ChdbHttpHandler.spool_dir = Path(tempfile.mkdtemp(prefix="chdb_http_"))
    server = HTTPServer(("127.0.0.1", 0), ChdbHttpHandler)
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), Path(sys.argv[2]))
