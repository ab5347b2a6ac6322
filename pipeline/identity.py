"""One rep_id per rep and one customer_id per customer, whatever channel their raw ids come from.

Users maintain the directory as a file, CSV or TOML (see docs/identity.md).

TOML: one ``[[rep]]`` table per rep and one ``[[customer]]`` table per customer::

    [[rep]]
    rep_id = "r-zhangwei"          # required, unique
    name = "张伟"
    wecom_userid = "zhangwei"
    dingtalk_staff_id = "0155201234"
    emails = ["zhangwei@acme.cn"]  # or email = "..."
    crm_owner_id = "1001"
    team = "华东一部"
    manager = "r-lina"

    [[customer]]
    customer_id = "c-0001"         # required, unique
    name = "杭州云帆科技"
    tier = "A"                     # A, B, C or empty
    wecom_external_userids = ["wmAbc123"]
    dingtalk_ids = []
    crm_customer_id = "L-0001"
    emails = ["chen@yunfan.com"]
    domains = ["yunfan.com"]
    owner = "r-zhangwei"           # the rep_id of the owner

CSV: one header row, one row per person, a ``type`` column saying ``rep`` or ``customer``,
the same column names as TOML, list columns (emails, domains, wecom_external_userids,
dingtalk_ids) separated by ``;``. Columns that do not apply to a row stay empty.

Errors raise DirectoryError naming the file and the line.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TIERS = frozenset({"A", "B", "C", ""})
REP_FIELDS = frozenset(
    {
        "rep_id",
        "name",
        "wecom_userid",
        "dingtalk_staff_id",
        "email",
        "emails",
        "crm_owner_id",
        "team",
        "manager",
    }
)
CUSTOMER_FIELDS = frozenset(
    {
        "customer_id",
        "name",
        "tier",
        "wecom_external_userid",
        "wecom_external_userids",
        "dingtalk_ids",
        "crm_customer_id",
        "email",
        "emails",
        "domains",
        "owner",
    }
)
_LIST_SEPARATOR = ";"


class DirectoryError(ValueError):
    """A directory file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Rep:
    rep_id: str
    name: str = ""
    wecom_userid: str = ""
    dingtalk_staff_id: str = ""
    emails: tuple[str, ...] = ()
    crm_owner_id: str = ""
    team: str = ""
    manager: str = ""


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str = ""
    tier: str = ""
    wecom_external_userids: tuple[str, ...] = ()
    dingtalk_ids: tuple[str, ...] = ()
    crm_customer_id: str = ""
    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    owner: str = ""


def _email_key(address: str) -> str:
    return address.strip().lower()


@dataclass
class Directory:
    """Lookups from (channel, raw id) to reps and customers.

    Channels: wecom, dingtalk, email, crm.
    """

    reps: list[Rep] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    _rep_index: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _customer_index: dict[tuple[str, str], Customer] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for rep in self.reps:
            self._index_rep(rep)
        for customer in self.customers:
            self._index_customer(customer)

    def _index_rep(self, rep: Rep) -> None:
        keys = [
            ("wecom", rep.wecom_userid),
            ("dingtalk", rep.dingtalk_staff_id),
            ("crm", rep.crm_owner_id),
            ("rep", rep.rep_id),
        ]
        keys += [("email", _email_key(address)) for address in rep.emails]
        for key in keys:
            if key[1]:
                self._rep_index[key] = rep.rep_id

    def _index_customer(self, customer: Customer) -> None:
        keys = [("wecom", raw) for raw in customer.wecom_external_userids]
        keys += [("dingtalk", raw) for raw in customer.dingtalk_ids]
        keys += [("crm", customer.crm_customer_id), ("customer", customer.customer_id)]
        keys += [("email", _email_key(address)) for address in customer.emails]
        keys += [("domain", _email_key(domain)) for domain in customer.domains]
        for key in keys:
            if key[1]:
                self._customer_index[key] = customer

    def rep_for(self, kind: str, raw_id: str) -> str | None:
        """The rep_id behind a raw id of one channel (`kind`), or None when unmapped."""
        if kind == "email":
            raw_id = _email_key(raw_id)
        return self._rep_index.get((kind, raw_id))

    def customer_for(self, kind: str, raw_id: str) -> Customer | None:
        """The customer behind a raw id; an email address falls back to its domain."""
        if kind != "email":
            return self._customer_index.get((kind, raw_id))
        address = _email_key(raw_id)
        found = self._customer_index.get(("email", address))
        if found is None and "@" in address:
            found = self._customer_index.get(("domain", address.rsplit("@", 1)[1]))
        return found

    def is_staff(self, raw_id: str, source: str) -> bool | None:
        """True for a known rep, False for a known customer, None when the directory is silent."""
        if self.rep_for(source, raw_id) is not None:
            return True
        if self.customer_for(source, raw_id) is not None:
            return False
        return None

    @classmethod
    def load(cls, path: Path | str) -> Directory:
        """Read a .toml or .csv directory file."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".toml", ".csv"):
            raise DirectoryError(f"{path}: directory must be a .toml or .csv file")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise DirectoryError(f"{path}: cannot read directory: {error}") from error
        if suffix == ".toml":
            return cls.from_toml(text, str(path))
        return cls.from_csv(text, str(path))

    @classmethod
    def from_toml(cls, text: str, name: str = "<directory>") -> Directory:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise DirectoryError(f"{name}: {error}") from error
        unknown = set(document) - {"rep", "customer"}
        if unknown:
            raise DirectoryError(f"{name}: unknown top-level keys {sorted(unknown)}")
        rep_lines = _header_lines(text, "rep")
        customer_lines = _header_lines(text, "customer")
        builder = _Builder(name)
        for index, entry in enumerate(_table_list(document, "rep", name)):
            builder.add_rep(entry, _line_at(rep_lines, index))
        for index, entry in enumerate(_table_list(document, "customer", name)):
            builder.add_customer(entry, _line_at(customer_lines, index))
        return builder.build()

    @classmethod
    def from_csv(cls, text: str, name: str = "<directory>") -> Directory:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "type" not in reader.fieldnames:
            raise DirectoryError(f"{name}:1: the header must have a 'type' column")
        builder = _Builder(name)
        for row in reader:
            line = reader.line_num
            if None in row:
                raise DirectoryError(f"{name}:{line}: more cells than header columns")
            entry = {key: value for key, value in row.items() if key != "type" and value}
            entry_type = (row.get("type") or "").strip().lower()
            if entry_type == "rep":
                builder.add_rep(entry, line)
            elif entry_type == "customer":
                builder.add_customer(entry, line)
            elif any(value for value in row.values()):
                raise DirectoryError(
                    f"{name}:{line}: type must be 'rep' or 'customer', got {entry_type!r}"
                )
        return builder.build()


def _table_list(document: Mapping[str, object], key: str, name: str) -> list[Mapping[str, object]]:
    tables = document.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise DirectoryError(f"{name}: '{key}' must be an array of tables ([[{key}]])")
    return tables


def _header_lines(text: str, key: str) -> list[int]:
    header = f"[[{key}]]"
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(header)]


def _line_at(lines: list[int], index: int) -> int:
    return lines[index] if index < len(lines) else 0


class _Builder:
    """Validates entries one by one so an error can name its line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.reps: list[Rep] = []
        self.customers: list[Customer] = []
        self.rep_ids: set[str] = set()
        self.customer_ids: set[str] = set()

    def _fail(self, line: int, message: str) -> DirectoryError:
        return DirectoryError(f"{self.name}:{line}: {message}")

    def _text(self, entry: Mapping[str, object], key: str, line: int) -> str:
        value = entry.get(key, "")
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise self._fail(line, f"{key} must be a string, got {value!r}")
        return value.strip()

    def _list(self, entry: Mapping[str, object], keys: Iterable[str], line: int) -> tuple[str, ...]:
        values: list[str] = []
        for key in keys:
            value = entry.get(key, [])
            if isinstance(value, str):
                values += [part.strip() for part in value.split(_LIST_SEPARATOR)]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                values += [v.strip() for v in value]
            else:
                raise self._fail(line, f"{key} must be a string or a list of strings")
        return tuple(v for v in values if v)

    def _check_keys(self, entry: Mapping[str, object], allowed: frozenset[str], line: int) -> None:
        unknown = set(entry) - allowed
        if unknown:
            raise self._fail(line, f"unknown keys {sorted(unknown)}")

    def add_rep(self, entry: Mapping[str, object], line: int) -> None:
        self._check_keys(entry, REP_FIELDS, line)
        rep_id = self._text(entry, "rep_id", line)
        if not rep_id:
            raise self._fail(line, "rep_id is required")
        if rep_id in self.rep_ids:
            raise self._fail(line, f"duplicate rep_id {rep_id!r}")
        self.rep_ids.add(rep_id)
        self.reps.append(
            Rep(
                rep_id=rep_id,
                name=self._text(entry, "name", line),
                wecom_userid=self._text(entry, "wecom_userid", line),
                dingtalk_staff_id=self._text(entry, "dingtalk_staff_id", line),
                emails=self._list(entry, ("email", "emails"), line),
                crm_owner_id=self._text(entry, "crm_owner_id", line),
                team=self._text(entry, "team", line),
                manager=self._text(entry, "manager", line),
            )
        )

    def add_customer(self, entry: Mapping[str, object], line: int) -> None:
        self._check_keys(entry, CUSTOMER_FIELDS, line)
        customer_id = self._text(entry, "customer_id", line)
        if not customer_id:
            raise self._fail(line, "customer_id is required")
        if customer_id in self.customer_ids:
            raise self._fail(line, f"duplicate customer_id {customer_id!r}")
        tier = self._text(entry, "tier", line).upper()
        if tier not in TIERS:
            raise self._fail(line, f"tier must be A, B, C or empty, got {tier!r}")
        self.customer_ids.add(customer_id)
        self.customers.append(
            Customer(
                customer_id=customer_id,
                name=self._text(entry, "name", line),
                tier=tier,
                wecom_external_userids=self._list(
                    entry, ("wecom_external_userid", "wecom_external_userids"), line
                ),
                dingtalk_ids=self._list(entry, ("dingtalk_ids",), line),
                crm_customer_id=self._text(entry, "crm_customer_id", line),
                emails=self._list(entry, ("email", "emails"), line),
                domains=self._list(entry, ("domains",), line),
                owner=self._text(entry, "owner", line),
            )
        )

    def build(self) -> Directory:
        return Directory(reps=self.reps, customers=self.customers)
