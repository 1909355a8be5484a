"""Every README snippet runs as written.

Python blocks are executed (from the repository root, figures to a temporary folder); each
``tariffsim ...`` line of the bash blocks is parsed by the real argument parser, so a renamed
flag or command fails here, and the cheap commands (validate, datasets) are run. The sweep
example is run as a script in tests/test_sweep_faults.py.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from pathlib import Path

import pytest

from tariffsim.cli import main
from tariffsim.cli.app import build_parser

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)
PYTHON = [code for lang, code in BLOCKS if lang == "python" and "run_sweep" not in code]
COMMANDS = [
    line.split("#")[0].strip()
    for lang, code in BLOCKS if lang == "bash"
    for line in code.replace("\\\n", " ").splitlines()
    if line.strip().startswith("tariffsim ")
]


def test_readme_has_snippets():
    assert PYTHON and len(COMMANDS) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("code", PYTHON, ids=[f"python-{k}" for k in range(len(PYTHON))])
def test_python_snippet_runs(code, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = code.replace('"results/', f'"{tmp_path}/').replace("'results/", f"'{tmp_path}/")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


@pytest.mark.parametrize("command", COMMANDS, ids=range(len(COMMANDS)))
def test_command_line_parses(command):
    argv = shlex.split(command)[1:]
    argv = [path for a in argv for path in (sorted(glob.glob(a, root_dir=REPO)) if "*" in a else [a])]  # as a shell
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as exit_:
        pytest.fail(f"README command does not parse ({exit_.code}): {command}")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.split()[1] in ("datasets",)])
def test_cheap_commands_run(command, capsys):
    assert main(shlex.split(command)[1:]) == 0


def test_install_commands_are_the_ci_commands():
    """The two commands at the top are what .ci/run executes."""
    top = [line for lang, code in BLOCKS[:1] for line in code.strip().splitlines()]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert top[0].startswith("pip install -e . && tariffsim run ") and top[0].split("&& ")[1] in ci
    assert top[1].startswith('pip install -e ".[test]" && pytest')
    assert os.path.exists(REPO / top[0].split()[-1])
