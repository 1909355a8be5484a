"""The import rules of ARCHITECTURE.md, checked on the source (ast), and the light top-level import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "tariffsim"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Absolute names of every module ``path`` imports (function-level imports included unless asked)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            if node.module:
                out.add(base)
            else:
                out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _files(room: str) -> list[Path]:
    target = PKG / room
    return sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]


def _all_files() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def _in(name: str, room: str) -> bool:
    return name == f"tariffsim.{room}" or name.startswith(f"tariffsim.{room}.")


def test_kernels_import_numpy_scipy_and_each_other_only():
    allowed = {"numpy", "scipy", "__future__"}
    accelerators = {"numba", "threadpoolctl"}  # optional compiled paths and BLAS control: kernels/_accel*.py only
    for path in _files("kernels"):
        for name in _imports(path):
            top = name.split(".")[0]
            ok = top in allowed or _in(name, "kernels") or (top in sys.stdlib_module_names and top != "tariffsim")
            ok = ok or (top in accelerators and path.name.startswith("_accel"))
            assert ok, f"{path.relative_to(PKG.parent)} imports {name}: kernels are pure numpy/scipy"


@pytest.mark.parametrize("room", ["cli", "plot"])
def test_nothing_imports_the_cli_or_the_plots(room):
    for path in _all_files():
        mod = _module(path)
        if _in(mod, room) or mod == "tariffsim.__main__":
            continue
        if room == "plot" and _in(mod, "cli"):  # ARCHITECTURE.md: "cli imports anything" (timeline --figure)
            continue
        bad = [n for n in _imports(path) if _in(n, room)]
        assert not bad, f"{path.relative_to(PKG.parent)} imports {bad}: nothing in the library imports {room}"


def test_analysis_is_imported_by_the_cli_and_plots_only():
    for path in _all_files():
        mod = _module(path)
        if any(_in(mod, r) for r in ("analysis", "cli", "plot")):
            continue
        bad = [n for n in _imports(path) if _in(n, "analysis")]
        assert not bad, f"{path.relative_to(PKG.parent)} imports {bad}"


def test_the_flow_goes_one_way():
    """scenario -> schedule -> kernels -> models -> results; lower rooms never import higher ones."""
    higher = ("simulate", "sweep", "analysis", "plot", "cli")
    rules = {
        "kernels": higher + ("models", "schedule", "scenario", "datasets"),
        "schedule": higher + ("models", "scenario"),
        "models": higher + ("schedule", "scenario"),
        "scenario": higher + ("schedule",),
        "datasets": higher + ("models", "schedule", "scenario"),
        "world": higher + ("models", "schedule", "scenario"),
        "shocks": higher + ("models", "schedule", "scenario"),
        "results": higher + ("models", "schedule", "scenario"),
        "sweep": ("analysis", "plot", "cli"),
    }
    for room, forbidden in rules.items():
        for path in _files(room):
            bad = [n for n in _imports(path) for f in forbidden if _in(n, f)]
            assert not bad, f"{path.relative_to(PKG.parent)} ({room}) imports {bad}"


def test_registry_is_cheap_to_import():
    for name in ("registry.py", "entry.py"):
        top = _imports(PKG / "models" / name, top_level_only=True)
        cheap = ("tariffsim.errors", "tariffsim.models.entry", "tariffsim.models.prices_entry")
        assert all(n.split(".")[0] in sys.stdlib_module_names or n in cheap for n in top), (name, top)
    code = ("import sys, tariffsim; tariffsim.MODELS; import tariffsim.models.registry, tariffsim.cli; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'pyarrow', 'dask') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_model_names_are_written_in_the_registry_only():
    """Outside models/registry.py no module lists the model names (adapters name only themselves)."""
    import re

    listing = re.compile(r"""["']accounting["']\s*,\s*["']smart["']|["']smart["']\s*,\s*["']gsim["']""")
    exempt = {"tariffsim.models.registry"}
    for path in _all_files():
        if _module(path) in exempt:
            continue
        assert not listing.search(path.read_text(encoding="utf-8")), f"{path.relative_to(PKG.parent)} lists model names"


@pytest.mark.parametrize("old,new,name", [
    ("tariffsim.parameters", "tariffsim.models.parameters", "pe_defaults"),
    ("tariffsim.readers", "tariffsim.datasets.readers", "read_gravity_long"),
    ("tariffsim.timeline", "tariffsim.analysis.timeline", "timeline"),
    ("tariffsim.compare", "tariffsim.analysis.compare", "compare"),
    ("tariffsim.report", "tariffsim.analysis.report", "text_report"),
    ("tariffsim.sweep_plot", "tariffsim.plot.sweep", "plot_bands"),
    ("tariffsim.lines", "tariffsim.datasets", "load_us_lines"),
])
def test_old_import_paths_warn_and_work(old, new, name):
    import importlib

    import tariffsim

    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated since tariffsim 0\.2\.0"):
        value = getattr(module, name)
    expected = "load_us_product_lines" if old == "tariffsim.lines" else name
    assert value is getattr(importlib.import_module(new), expected)
    assert getattr(tariffsim, old.split(".")[1]) is module


@pytest.mark.parametrize("room", ["cli", "plot", "analysis", "datasets", "models/registry.py", "models/entry.py",
                                  "models/parameters.py", "models/accounting.py", "simulate.py"])
def test_rooms_of_this_layout_stay_small(room):
    paths = [PKG / room] if room.endswith(".py") else _files(room)
    for path in paths:
        n = len(path.read_text(encoding="utf-8").splitlines())
        assert n <= 400, f"{path.relative_to(PKG.parent)} has {n} lines (house rule: at most 400)"
