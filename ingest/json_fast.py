"""A JSON array of objects read by DuckDB instead of Python's `json` (issue 17).

At 1M leads the web-form export (612k objects) took ~20 s of its 28 s in `json.loads` and the
Python flattening. DuckDB reads the file in two scans (its structure, then every leaf as text);
measured on the 100k demo's 61k forms here: 1.7-2.0 s against 3.9-4.0 s (the machine shared),
and without the Python objects in memory. The result must be the exact reader's
(`readers.read_json_exact`) cell for cell, so this path only takes files whose every value it
renders the same way: objects nested in objects, strings, integers, booleans and nulls. Anything
else (a list, a float, a key with a quote, two paths that flatten to one name, a value that is
not an object, NDJSON, another encoding, invalid JSON) returns None and the exact reader reads
the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadflow.core.sql import literal

if TYPE_CHECKING:
    from ingest.readers import ParsedFile

# Leaf types rendered like `readers._cell_text`: strings as they are, integers in decimal,
# booleans as true/false, null as no value.
SCALARS = ("VARCHAR", "BIGINT", "UBIGINT", "BOOLEAN", "NULL")
# Python's str.strip() whitespace (none lies above U+3000): a cell of only these is no value
# (`readers._cell_text`); a SQL literal of those characters for trim().
WHITESPACE = [c for c in range(0x3001) if chr(c).strip() == ""]
BLANK = "'" + "".join(chr(c) for c in WHITESPACE) + "'"


def _leaf_paths(structure: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]] | None:
    """Key paths of the leaves of `json_group_structure`, in first-seen order; None when a
    part is not an object or a scalar this path renders exactly."""
    paths: list[tuple[str, ...]] = []
    for key, value in structure.items():
        if '"' in key or "\\" in key:
            return None
        if isinstance(value, dict):
            inner = _leaf_paths(value, (*prefix, key))
            if inner is None:
                return None
            paths.extend(inner)
        elif value in SCALARS:
            paths.append((*prefix, key))
        else:  # a list, a float, mixed kinds (JSON), an empty object
            return None
    return paths


def read_json_array(path: Path) -> ParsedFile | None:
    """The file as one sheet with an Arrow table, or None for the exact reader."""
    import duckdb

    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    if not head.startswith(b"["):
        return None  # NDJSON, a BOM, UTF-16/32: the exact reader numbers and decodes those
    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")  # one scan in file order: row numbers are positions
        source = (
            f"read_json({literal(str(path))}, format = 'array', records = false, "
            "columns = {'j': 'JSON'}, maximum_object_size = 134217728)"
        )
        ((kinds, structure),) = con.execute(
            f"SELECT count(*) FILTER (json_type(j) <> 'OBJECT'), json_group_structure(j) "
            f"FROM {source}"
        ).fetchall()
        if kinds or structure is None:
            return None
        paths = _leaf_paths(json.loads(structure))
        if not paths:
            return None
        header = [".".join(p) for p in paths]
        if len(set(header)) != len(header):
            return None  # "a.b" and {"a": {"b"}} both: the exact reader merges them
        table = con.sql(_select(paths, source)).to_arrow_table()
    except duckdb.Error:
        return None  # invalid JSON, bad bytes: the exact reader says why
    finally:
        con.close()
    from ingest.readers import ParsedFile, Sheet

    return ParsedFile([Sheet(header, arrow=table)], [], "utf-8")


def _select(paths: list[tuple[str, ...]], source: str) -> str:
    """row_number and c0..cN as text. The structure pass proved each path holds one scalar kind
    (or nothing), so `json_extract_string` renders it as the exact reader does: strings as
    they are, integers in decimal, true/false; whitespace-only strings become no value."""
    extract = ", ".join("'$." + ".".join(f'"{k}"' for k in keys) + "'" for keys in paths)
    # the trim is slow: only values that start with a whitespace character take it
    starts = ", ".join(str(c) for c in WHITESPACE)
    cells = ", ".join(
        f"CASE WHEN v[{i + 1}] = '' THEN NULL WHEN unicode(v[{i + 1}]) NOT IN ({starts}) "
        f"THEN v[{i + 1}] WHEN trim(v[{i + 1}], {BLANK}) <> '' THEN v[{i + 1}] END AS c{i}"
        for i in range(len(paths))
    )
    return (
        f"SELECT row_number, {cells} FROM (SELECT CAST(row_number() OVER () AS BIGINT) "
        f"AS row_number, json_extract_string(j, [{extract}]) AS v FROM {source})"
    )
