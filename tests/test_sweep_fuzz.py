"""Mutated sweep files: every one is either a valid sweep or a ScenarioError whose every line names
the file and a key path - never another exception (fixed seed; structure and text mutations)."""

from __future__ import annotations

import copy
import random
import tomllib
from pathlib import Path

import pytest

from tariffsim.errors import ScenarioError
from tariffsim.sweep import load_sweep, sweep_from_dict

SWEEPS = Path(__file__).resolve().parents[1] / "scenarios" / "sweeps"
FILES = sorted(p for p in SWEEPS.glob("*.toml") if "scenario" in tomllib.loads(p.read_text()))
VALUES = [None, "", "x", "smart", -1, 0, 1, 1.5, 2**70, True, False, [], {}, [1, "a"], [0.1, 0.1], {"a": 1},
          {"low": 1, "high": 0}, {"choices": []}, float("nan"), float("inf"), "2025-13-01", [[[[]]]], ["cp2015"]]


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for k, v in enumerate(node):
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))


def _mutate(data: dict, rng: random.Random) -> dict:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(data))
        if not paths:
            break
        path = rng.choice(paths)
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        move = rng.random()
        if move < 0.4:
            parent[key] = copy.deepcopy(rng.choice(VALUES))
        elif move < 0.6 and isinstance(parent, dict):
            del parent[key]
        elif move < 0.8 and isinstance(parent, dict) and isinstance(key, str) and key:
            parent[key[:-1] + chr(ord(key[-1]) ^ 1)] = parent.pop(key)  # a typo
        elif isinstance(parent, dict):
            parent[rng.choice(["extra", "grids", "Sample", "seed_"])] = rng.choice(VALUES)
    return data


def _check_error(err: ScenarioError, file: str) -> None:
    assert err.problems, err
    for line in str(err).splitlines()[1:]:
        assert line.startswith(f"  - {file} → "), line


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_mutated_sweep_dicts_fail_cleanly(path):
    rng = random.Random(f"sweep-fuzz-{path.stem}")
    base = tomllib.loads(path.read_text(encoding="utf-8"))
    for _ in range(150):
        data = _mutate(base, rng)
        try:
            sweep_from_dict(data, base_dir=SWEEPS, file=path.name)
        except ScenarioError as err:
            _check_error(err, path.name)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_mutated_sweep_texts_fail_cleanly(path, tmp_path):
    rng = random.Random(f"sweep-text-{path.stem}")
    raw = path.read_bytes()
    target = tmp_path / path.name
    (tmp_path / "base").symlink_to(SWEEPS.parent)
    for k in range(60):
        data = bytearray(raw.replace(b'"../', b'"base/').replace(b'= "july_package_base', b'= "base/sweeps/july'))
        move = k % 4
        if move == 0:
            del data[rng.randrange(len(data)):]  # truncated
        elif move == 1:
            data[rng.randrange(len(data))] = rng.choice([0xFF, 0x00, ord("["), ord('"'), ord("=")])
        elif move == 2:
            data = bytearray(b"\xef\xbb\xbf") + data  # a BOM
        else:
            data = bytearray(b"a = " + b"[" * 600 + b"]" * 600 + b"\n") + data  # deep nesting
        target.write_bytes(bytes(data))
        try:
            load_sweep(target)
        except ScenarioError as err:
            _check_error(err, str(target))
