"""Fuzz the scenario loader: machine-mutated copies of the shipped scenario and sweep files.

Invariant checked for every mutated file: loading it either succeeds or raises a
:class:`tariffsim.errors.TariffsimError` whose message names the file and a key path, and
``tariffsim validate FILE`` exits 0 or 2 without a traceback. Anything else (a raw Python
exception, a hang, exit 1) is a failure and is listed with the file that caused it.

Mutation families (each a small pure function ``text, rng -> bytes``):

- bytes: invalid UTF-8, a byte-order mark, truncation, a random byte flipped, NUL bytes;
- structure: nesting 600 deep, a duplicated key, an unterminated table;
- values (parse, change one value, serialise again): rates x100, NaN, inf, negative numbers,
  strings for numbers, lists and tables for scalars, years 1 and 9999, empty strings,
  unknown keys, missing required keys, ``kind`` as a list or table, ``extends`` pointing at a
  folder, at a missing file, at itself, or empty.

Run the long version with ``python tools/fuzz_scenarios.py --files 20000 --seed 7``; the test
suite runs a fixed-seed sample (tests/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import shutil
import sys
import tempfile
import time
import tomllib
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- TOML writer
def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k else '"' + k.replace('"', '\\"') + '"'


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def dumps(data: dict) -> str:
    """Serialise a scenario dict to TOML (scalars and inline tables first, then [[measure]])."""
    lines = []
    tables = {}
    for k, v in data.items():
        if k == "measure" and isinstance(v, list) and all(isinstance(m, dict) for m in v):
            continue
        if isinstance(v, dict) and k in ("overrides", "world", "parameters"):
            tables[k] = v
            continue
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in tables.items():
        lines.append(f"\n[{_key(k)}]")
        for kk, vv in v.items():
            lines.append(f"{_key(kk)} = {_value(vv)}")
    for m in data.get("measure", []) if isinstance(data.get("measure"), list) else []:
        if isinstance(m, dict):
            lines.append("\n[[measure]]")
            lines.extend(f"{_key(k)} = {_value(v)}" for k, v in m.items())
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- mutations
BAD_VALUES: tuple = (
    float("nan"), float("inf"), float("-inf"), -1.0, -0.5, 25.0, 1e308, 0, "", "abc", "yes",
    [], ["KOR", 1], {}, {"a": 1}, True, dt.date(1, 1, 1), dt.date(9999, 12, 31), "0.25", "../", "list:nope",
)


def _paths(node, prefix=()) -> Iterator[tuple]:
    """Every (key path) to a scalar or container inside a parsed TOML document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _set(node, path, value) -> None:
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def _delete(node, path) -> None:
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]


def mutate_value(text: str, rng: random.Random) -> bytes:
    data = tomllib.loads(text)
    paths = list(_paths(data))
    path = rng.choice(paths)
    _set(data, path, rng.choice(BAD_VALUES))
    return dumps(data).encode()


def mutate_kind(text: str, rng: random.Random) -> bytes:
    data = tomllib.loads(text)
    measures = data.get("measure") or [{}]
    data["measure"] = measures
    m = rng.choice(measures)
    m["kind"] = rng.choice([["item"], {"x": "item"}, "itme", "", 3, "floor", "quota", "ntb"])
    return dumps(data).encode()


def mutate_drop_key(text: str, rng: random.Random) -> bytes:
    data = tomllib.loads(text)
    paths = [p for p in _paths(data) if not isinstance(p[-1], int)]
    if paths:
        _delete(data, rng.choice(paths))
    return dumps(data).encode()


def mutate_unknown_key(text: str, rng: random.Random) -> bytes:
    data = tomllib.loads(text)
    target = rng.choice([data, *[m for m in data.get("measure", []) if isinstance(m, dict)]])
    target[rng.choice(["rate_", "partner", "efective", "Kind", "products2", "x"])] = rng.choice(BAD_VALUES[:6])
    return dumps(data).encode()


def mutate_extends(text: str, rng: random.Random) -> bytes:
    data = tomllib.loads(text)
    targets = ["", ".", "..", "missing.toml", "self.toml", "/", "baseline_2024.toml", "../korea_us_2025"]
    data["extends"] = rng.choice(targets)
    return dumps(data).encode()


def mutate_bytes(text: str, rng: random.Random) -> bytes:
    raw = bytearray(text.encode())
    choice = rng.randrange(6)
    if choice == 0:
        return b"\xff\xfe" + bytes(raw)
    if choice == 1:
        return b"\xef\xbb\xbf" + bytes(raw)
    if choice == 2:
        return bytes(raw[: rng.randrange(max(1, len(raw)))])
    if choice == 3 and raw:
        raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if choice == 4:
        return bytes(raw) + b"\x00\x00"
    pos = rng.randrange(max(1, len(raw)))
    return bytes(raw[:pos]) + b"\xc3\x28" + bytes(raw[pos:])


def mutate_structure(text: str, rng: random.Random) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        depth = rng.choice([100, 600, 2000])
        return (text + "\ndeep = " + "[" * depth + "]" * depth + "\n").encode()
    if choice == 1:
        depth = rng.choice([100, 600])
        return (text + "\n[parameters]\nx = " + "{ a = " * depth + "1" + " }" * depth + "\n").encode()
    if choice == 2:
        return (text + "\nname = \"twice\"\n").encode()
    return (text + "\n[[measure]\n").encode()


FAMILIES: dict[str, Callable[[str, random.Random], bytes]] = {
    "value": mutate_value,
    "kind": mutate_kind,
    "drop_key": mutate_drop_key,
    "unknown_key": mutate_unknown_key,
    "extends": mutate_extends,
    "bytes": mutate_bytes,
    "structure": mutate_structure,
}
WEIGHTS = {"value": 6, "kind": 1, "drop_key": 2, "unknown_key": 1, "extends": 1, "bytes": 2, "structure": 1}


# --------------------------------------------------------------------------- running
@dataclass
class FuzzReport:
    """Outcome counts and the failures (file, family, traceback) of one fuzz run."""

    files: int = 0
    accepted: int = 0
    rejected: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    by_family: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.files} files fuzzed in {self.seconds:.1f} s: {self.accepted} accepted, {self.rejected} "
                f"rejected with a clear error, {len(self.failures)} failures (tracebacks or messages without "
                f"file and key path); families {self.by_family}")


def corpus(repo: Path = REPO) -> list[Path]:
    """The shipped scenario and sweep files the mutations start from."""
    return sorted(p for p in (repo / "scenarios").rglob("*.toml"))


def check_one(path: Path) -> tuple[str, str]:
    """Load one file: ('accepted' | 'rejected' | 'failure', detail)."""
    from tariffsim.errors import TariffsimError
    from tariffsim.scenario import load_scenario

    try:
        load_scenario(path)
    except TariffsimError as err:
        msg = str(err)
        if path.name not in msg:
            return "failure", f"message does not name the file: {msg[:300]}"
        if "→" not in msg and "(file)" not in msg:
            return "failure", f"message names no key path: {msg[:300]}"
        return "rejected", msg
    except Exception:  # noqa: BLE001 - the fuzz harness exists to catch whatever escapes
        return "failure", traceback.format_exc(limit=6)
    return "accepted", ""


def _is_sweep(path: Path) -> bool:
    return "sweeps" in path.parts


def fuzz(n_files: int, seed: int = 0, *, repo: Path = REPO, workdir: Path | None = None,
         keep_failures: Path | None = None) -> FuzzReport:
    """Mutate ``n_files`` scenario files (fixed seed) and check the loader's invariant on each."""
    rng = random.Random(seed)
    sources = [p for p in corpus(repo) if not _is_sweep(p)]
    texts = {p: p.read_text(encoding="utf-8") for p in sources}
    report = FuzzReport()
    start = time.perf_counter()
    families = list(WEIGHTS)
    weights = [WEIGHTS[f] for f in families]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(workdir or tmp) / "scenarios"
        shutil.copytree(repo / "scenarios", root, dirs_exist_ok=True)
        for k in range(n_files):
            src = rng.choice(sources)
            family = rng.choices(families, weights)[0]
            try:
                payload = FAMILIES[family](texts[src], rng)
            except (tomllib.TOMLDecodeError, TypeError, KeyError, IndexError):
                payload = texts[src].encode() + b"\n#"  # mutation not applicable: a near-copy
            target = root / src.relative_to(repo / "scenarios").parent / f"fuzz_{k}.toml"
            target.write_bytes(payload)
            status, detail = check_one(target)
            report.files += 1
            report.by_family[family] = report.by_family.get(family, 0) + 1
            if status == "accepted":
                report.accepted += 1
            elif status == "rejected":
                report.rejected += 1
            else:
                report.failures.append((str(target.name), family, detail))
                if keep_failures is not None:
                    keep_failures.mkdir(parents=True, exist_ok=True)
                    shutil.copy(target, keep_failures / f"{family}_{target.name}")
            target.unlink()
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="how many mutated files (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="copy failing files into this folder")
    args = parser.parse_args(argv)
    report = fuzz(args.files, args.seed, keep_failures=args.keep)
    sys.stdout.write(report.summary() + "\n")
    heads = {}
    for _name, family, text in report.failures:
        head = text.strip().splitlines()[-1][:160]
        heads[(family, head)] = heads.get((family, head), 0) + 1
    for (family, head), count in sorted(heads.items(), key=lambda kv: -kv[1]):
        sys.stdout.write(f"{count:5d}  {family:12s} {head}\n")
    for name, family, text in report.failures[:5]:
        sys.stdout.write(f"--- {name} ({family})\n{text}\n")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
