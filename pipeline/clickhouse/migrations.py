"""Apply the numbered sql/*.sql migrations in order, once each, and record them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.clickhouse.errors import ClickHouseError, MigrationError
from pipeline.clickhouse.protocol import ClickHouseBackend
from pipeline.clickhouse.sql_text import fill_template, split_statements

#: Where the migrations live in a source checkout.
DEFAULT_SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

#: Template variables the migrations use, with their defaults. Values must be whole numbers.
DEFAULT_SETTINGS_VARS: dict[str, str] = {
    "text_ttl_days": "180",  # days after occurred_at when events.text is blanked
}

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    name String COMMENT 'Migration file name, e.g. 0001_events.sql',
    checksum String COMMENT 'SHA-256 of the file text as applied (before variables are filled)',
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When it was applied'
)
ENGINE = MergeTree
ORDER BY name
"""


@dataclass(frozen=True)
class Migration:
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def discover(sql_dir: Path) -> list[Migration]:
    """The migration files of `sql_dir`, in number order; refuses duplicate numbers."""
    migrations: list[Migration] = []
    seen: dict[str, str] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration names look like 0001_events.sql")
        number = match.group(1)
        if number in seen:
            raise MigrationError(f"{path}: number {number} also used by {seen[number]}")
        seen[number] = path.name
        migrations.append(Migration(path.name, path.read_text(encoding="utf-8")))
    return migrations


def _validated_vars(settings_vars: Mapping[str, str] | None) -> dict[str, str]:
    variables = {**DEFAULT_SETTINGS_VARS, **(settings_vars or {})}
    for name, value in variables.items():
        if not str(value).isdigit():
            raise MigrationError(f"setting {name} must be a whole number, got {value!r}")
    return {name: str(value) for name, value in variables.items()}


def applied_migrations(backend: ClickHouseBackend) -> dict[str, str]:
    """name -> checksum of every migration recorded as applied."""
    backend.command(_HISTORY_DDL)
    rows = backend.query_rows("SELECT name, checksum FROM schema_migrations ORDER BY name")
    return {row["name"]: row["checksum"] for row in rows}


def migrate(
    backend: ClickHouseBackend,
    sql_dir: Path | None = None,
    *,
    settings_vars: Mapping[str, str] | None = None,
) -> list[str]:
    """Apply pending migrations in order; returns the names applied by this call.

    Refuses to run when an applied file changed: applied migrations are never edited, a change
    goes into the next numbered file. Statements use IF NOT EXISTS, so a migration interrupted
    half-way is safe to re-run.
    """
    variables = _validated_vars(settings_vars)
    migrations = discover(sql_dir or DEFAULT_SQL_DIR)
    applied = applied_migrations(backend)
    for migration in migrations:
        recorded = applied.get(migration.name)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"{migration.name} was changed after it was applied "
                f"(recorded checksum {recorded[:12]}, file {migration.checksum[:12]}); "
                "put the change in a new numbered migration instead"
            )
    applied_now: list[str] = []
    for migration in migrations:
        if migration.name in applied:
            continue
        _apply(backend, migration, variables)
        applied_now.append(migration.name)
    return applied_now


def _apply(backend: ClickHouseBackend, migration: Migration, variables: dict[str, str]) -> None:
    for number, statement in enumerate(split_statements(migration.text), start=1):
        try:
            backend.command(fill_template(statement, variables))
        except KeyError as missing:
            raise MigrationError(
                f"{migration.name}: statement {number} uses unknown variable {missing}"
            ) from None
        except ClickHouseError as error:
            raise MigrationError(f"{migration.name}: statement {number} failed: {error}") from error
    backend.insert_rows(
        "schema_migrations", [{"name": migration.name, "checksum": migration.checksum}]
    )
