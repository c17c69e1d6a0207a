"""Lead routing rules (issue 9, C5): validate `config/routing.yaml` and write it to the warehouse.

Sales ops edit the YAML; before every dbt build `transform` calls `load_routing_rules`, which
validates it (errors name the rule and key) and rewrites three tables that the dbt model
`int_lead_routing` reads in forward runs:

- `config.routing_rules`: rule_order, rule_name, pool_name, is_default, match_text, rules_file,
  rules_sha256 (one row per rule; the first matching rule wins).
- `config.routing_rule_matches`: rule_order, field, value (one row per accepted value, trimmed and
  lower-cased; a rule matches when every field it names holds one of its values).
- `config.routing_pools`: pool_name, position, owner_name, capacity_per_day (one row per member,
  in round-robin order; capacity NULL = unlimited).

Syntax, precedence and guarantees: docs/routing.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadflow.core import warehouse as warehouse_db
from leadflow.core.errors import ConfigurationError
from leadflow.core.settings import ROUTING_RULES_ENV as RULES_ENV
from leadflow.core.settings import routing_rules_path

# Lead attributes a rule can match on (docs/routing.md): source = first-touch source label,
# channel = channel of the acquisition record, tags = any tag of any intake record.
MATCH_FIELDS = ("source", "channel", "city", "province", "industry", "company_size", "tags")
RULE_KEYS = {"name", "description", "match", "pool", "owner", "capacity_per_day"}
POOL_KEYS = {"members", "capacity_per_day", "description"}
MEMBER_KEYS = {"owner", "capacity_per_day"}
TOP_KEYS = {"version", "pools", "rules"}


class RoutingRulesError(ConfigurationError):
    """The rules file is invalid; the message names the file, the rule and the key."""


@dataclass(frozen=True)
class Member:
    owner_name: str
    capacity_per_day: int | None


@dataclass(frozen=True)
class Rule:
    name: str
    pool_name: str
    matches: dict[str, tuple[str, ...]]  # field -> accepted values (normalised)
    match_text: str  # the match as written, for people reading the table


@dataclass
class RoutingRules:
    rules: list[Rule] = field(default_factory=list)
    pools: dict[str, list[Member]] = field(default_factory=dict)


def default_rules_path() -> Path:
    """`LEADFLOW_ROUTING_RULES`, else `config/routing.yaml` of the repository."""
    return routing_rules_path()


def normalise(value: str) -> str:
    """How match values compare (the SQL side applies the same: trimmed, lower-cased)."""
    return value.strip().lower()


def _type_name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _capacity(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RoutingRulesError(
            f"{where}: capacity_per_day must be a whole number >= 1, got {value!r}"
        )
    return value


def _owner(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RoutingRulesError(
            f"{where}: an owner must be a name (a string; quote names YAML reads as numbers, "
            f"dates or yes/no), got {_type_name(value)} {value!r}"
        )
    return value.strip()


def _members(value: Any, where: str, default_capacity: int | None) -> list[Member]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise RoutingRulesError(f"{where}: members must be a non-empty list of owner names")
    members: list[Member] = []
    seen: set[str] = set()
    for i, item in enumerate(value, start=1):
        at = f"{where}, member {i}"
        if isinstance(item, dict):
            unknown = set(item) - MEMBER_KEYS
            if unknown:
                raise RoutingRulesError(
                    f"{at}: unknown key(s) {sorted(unknown)}; use owner, capacity_per_day"
                )
            name = _owner(item.get("owner"), f"{at}, key 'owner'")
            capacity = _capacity(item.get("capacity_per_day"), f"{at}, key 'capacity_per_day'")
            capacity = default_capacity if capacity is None else capacity
        else:
            name, capacity = _owner(item, at), default_capacity
        if name.lower() in seen:
            raise RoutingRulesError(f"{at}: {name!r} is listed twice")
        seen.add(name.lower())
        members.append(Member(name, capacity))
    return members


def _pools(value: Any) -> dict[str, list[Member]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RoutingRulesError("key 'pools': must be a mapping of pool name -> members")
    pools: dict[str, list[Member]] = {}
    for name, spec in value.items():
        where = f"pool {name!r}"
        if not isinstance(name, str) or not name.strip():
            raise RoutingRulesError(f"{where}: a pool name must be a string")
        if isinstance(spec, list):  # shorthand: the member list
            spec = {"members": spec}
        if not isinstance(spec, dict):
            raise RoutingRulesError(f"{where}: must be a list of owners or a mapping with members")
        unknown = set(spec) - POOL_KEYS
        if unknown:
            raise RoutingRulesError(
                f"{where}: unknown key(s) {sorted(unknown)}; use {sorted(POOL_KEYS)}"
            )
        capacity = _capacity(spec.get("capacity_per_day"), f"{where}, key 'capacity_per_day'")
        pools[name] = _members(spec.get("members"), f"{where}, key 'members'", capacity)
    return pools


def _match(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RoutingRulesError(f"{where}, key 'match': must be a mapping of field -> value(s)")
    matches: dict[str, tuple[str, ...]] = {}
    for key, raw in value.items():
        at = f"{where}, key 'match.{key}'"
        if key not in MATCH_FIELDS:
            raise RoutingRulesError(f"{at}: unknown field; match on {', '.join(MATCH_FIELDS)}")
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise RoutingRulesError(f"{at}: needs at least one value")
        for v in values:
            if not isinstance(v, str) or not v.strip():
                raise RoutingRulesError(
                    f"{at}: values must be non-blank strings (quote numbers), got "
                    f"{_type_name(v)} {v!r}"
                )
        matches[key] = tuple(dict.fromkeys(normalise(v) for v in values))
    return matches


def parse_routing_rules(document: Any) -> RoutingRules:
    """Validate a parsed rules document. Raises RoutingRulesError naming the rule and key."""
    if not isinstance(document, dict):
        raise RoutingRulesError("the file must be a mapping with 'rules' (and optional 'pools')")
    unknown = set(document) - TOP_KEYS
    if unknown:
        raise RoutingRulesError(
            f"unknown top-level key(s) {sorted(unknown)}; use {sorted(TOP_KEYS)}"
        )
    if document.get("version", 1) != 1:
        raise RoutingRulesError(
            f"key 'version': only version 1 exists, got {document['version']!r}"
        )
    parsed = RoutingRules(pools=_pools(document.get("pools")))
    rules = document.get("rules")
    if not isinstance(rules, list) or not rules:
        raise RoutingRulesError("key 'rules': must be a non-empty list, the default rule last")
    names: set[str] = set()
    for index, spec in enumerate(rules, start=1):
        where = f"rule {index}"
        if not isinstance(spec, dict):
            raise RoutingRulesError(
                f"{where}: must be a mapping with name, match and pool or owner"
            )
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RoutingRulesError(f"{where}, key 'name': every rule needs a name (a string)")
        name = name.strip()
        where = f"rule {index} ({name})"
        unknown = set(spec) - RULE_KEYS
        if unknown:
            raise RoutingRulesError(
                f"{where}: unknown key(s) {sorted(unknown)}; use {sorted(RULE_KEYS)}"
            )
        if name in names:
            raise RoutingRulesError(f"{where}, key 'name': the name is used by an earlier rule")
        names.add(name)
        if ("pool" in spec) == ("owner" in spec):
            raise RoutingRulesError(f"{where}: name exactly one of 'pool' or 'owner'")
        matches = _match(spec.get("match"), where)
        capacity = _capacity(spec.get("capacity_per_day"), f"{where}, key 'capacity_per_day'")
        pool = spec.get("pool")
        if isinstance(pool, str):  # a pool defined under 'pools'
            if pool not in parsed.pools:
                raise RoutingRulesError(
                    f"{where}, key 'pool': no pool named {pool!r} under 'pools'"
                )
            if capacity is not None:
                raise RoutingRulesError(
                    f"{where}, key 'capacity_per_day': set it on pool {pool!r} under 'pools'"
                )
            pool_name = pool
        else:  # an owner or an inline member list: a pool of this rule's own
            key = "owner" if "owner" in spec else "pool"
            members = spec["owner"] if key == "owner" else pool
            if key == "owner":
                _owner(members, f"{where}, key 'owner'")
            pool_name = f"rule:{name}"
            parsed.pools[pool_name] = _members(members, f"{where}, key '{key}'", capacity)
        if not matches and index != len(rules):
            raise RoutingRulesError(
                f"{where}, key 'match': a rule without match is the default and must be last "
                "(the rules after it would never apply)"
            )
        text = json.dumps(spec.get("match") or {}, ensure_ascii=False, sort_keys=True)
        parsed.rules.append(Rule(name, pool_name, matches, text))
    return parsed


def read_routing_rules(rules_path: Path) -> tuple[RoutingRules, str]:
    """Parse and validate a rules file; returns the rules and the file's SHA-256."""
    import yaml

    if not rules_path.is_file():
        raise RoutingRulesError(f"{rules_path}: routing rules file not found (set {RULES_ENV})")
    data = rules_path.read_bytes()
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RoutingRulesError(f"{rules_path}: not valid UTF-8 YAML: {exc}") from exc
    try:
        return parse_routing_rules(document), hashlib.sha256(data).hexdigest()
    except RoutingRulesError as exc:
        raise RoutingRulesError(f"{rules_path}: {exc}") from None


@dataclass(frozen=True)
class LoadedRules:
    """The rules file a build routes with, as written to config.routing_*."""

    rules_file: str
    rules_sha256: str
    rules: int
    pools: int
    pool_members: int


def load_routing_rules(warehouse: Path, rules_path: Path) -> LoadedRules:
    """Validate the rules file and (re)write the config.routing_* tables in one transaction."""

    parsed, sha256 = read_routing_rules(rules_path)
    rule_rows = [
        (order, r.name, r.pool_name, not r.matches, r.match_text, str(rules_path), sha256)
        for order, r in enumerate(parsed.rules, start=1)
    ]
    match_rows = [
        (order, field_name, value)
        for order, r in enumerate(parsed.rules, start=1)
        for field_name, values in r.matches.items()
        for value in values
    ]
    pool_rows = [
        (pool, position, m.owner_name, m.capacity_per_day)
        for pool, members in parsed.pools.items()
        for position, m in enumerate(members, start=1)
    ]
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with warehouse_db.connect(warehouse) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE SCHEMA IF NOT EXISTS config")
        con.execute(
            "CREATE OR REPLACE TABLE config.routing_rules (rule_order INTEGER, rule_name VARCHAR, "
            "pool_name VARCHAR, is_default BOOLEAN, match_text VARCHAR, rules_file VARCHAR, "
            "rules_sha256 VARCHAR)"
        )
        con.execute(
            "CREATE OR REPLACE TABLE config.routing_rule_matches (rule_order INTEGER, "
            "field VARCHAR, value VARCHAR)"
        )
        con.execute(
            "CREATE OR REPLACE TABLE config.routing_pools (pool_name VARCHAR, position INTEGER, "
            "owner_name VARCHAR, capacity_per_day INTEGER)"
        )
        for table, rows in (
            ("routing_rules", rule_rows),
            ("routing_rule_matches", match_rows),
            ("routing_pools", pool_rows),
        ):
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                con.executemany(f"INSERT INTO config.{table} VALUES ({marks})", rows)
        con.execute("COMMIT")
    return LoadedRules(
        rules_file=str(rules_path),
        rules_sha256=sha256,
        rules=len(rule_rows),
        pools=len(parsed.pools),
        pool_members=len(pool_rows),
    )
