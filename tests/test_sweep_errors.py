"""Sweep specification errors: every problem at once, with where, what and how to fix."""

from __future__ import annotations

import pytest

from tariffsim.errors import DataError, ScenarioError
from tariffsim.sweep import prepare_sweep, run_sweep, sweep_from_dict
from test_sweep_support import toy_spec


def _message(tmp_path, **changes) -> str:
    with pytest.raises(ScenarioError) as info:
        prepare_sweep(toy_spec(tmp_path, **changes))
    return str(info.value)


def test_unknown_parameter_did_you_mean(tmp_path):
    msg = _message(tmp_path, grid={"kor_ret.rat": [0.1], "eu_recip.rates.US": [0.2]})
    assert "2 problems found" in msg
    assert "grid.'kor_ret.rat': is not a parameter of the base scenario. Did you mean one of 'kor_ret.rate'" in msg
    assert "grid.'eu_recip.rates.US'" in msg and "'eu_recip.rates.USA'" in msg
    assert "CompiledSchedule.parameter_names" in msg


def test_internal_parameter_is_not_sweepable(tmp_path):
    assert "is not a parameter" in _message(tmp_path, grid={"(zero)": [1.0]})


def test_switch_values(tmp_path):
    msg = _message(tmp_path, grid={"eu_recip.enabled": [0, 0.5]})
    assert "on/off switch: use the values 0 and 1" in msg
    msg = _message(tmp_path, grid={}, sample={"n": 4, "parameters": {"eu_recip.enabled": {"low": 0, "high": 1}}})
    assert "{ choices = [0, 1] }" in msg


def test_structural_problems_all_at_once(tmp_path):
    with pytest.raises(ScenarioError) as info:
        sweep_from_dict(toy_spec(tmp_path, models=["smrt", "ge"], seed=-1, chunk_size=0,
                                 grid={"kor_ret.rate": ["a"]}, options={"ge": {"tolerance": 1e-9}},
                                 sample={"method": "latin", "n": 0, "parameters": {"kor_ret.enabled": {"low": 1}}}))
    msg = str(info.value)
    for text in ("models[0]: unknown model 'smrt'. Did you mean 'smart'?",
                 "seed: must be an integer >= 0", "chunk_size: must be an integer >= 1",
                 "grid.'kor_ret.rate': must list finite numbers",
                 "options.ge.tolerance: is not an option of 'ge'",
                 "sample.parameters.'kor_ret.enabled': must be { low = a, high = b } or { choices = [...] }"):
        assert text in msg, text


def test_sample_and_elasticity_problems(tmp_path):
    with pytest.raises(ScenarioError) as info:
        sweep_from_dict(toy_spec(tmp_path, sample={"method": "latin", "n": 0,
                                                   "parameters": {"kor_ret.rate": {"low": 1, "high": 0}}},
                                 elasticities={"sources": ["cp2016"], "draws": -1}))
    msg = str(info.value)
    assert "sample.method: unknown method 'latin'" in msg and "Valid: ['random', 'lhs', 'sobol']" in msg
    assert "sample.n: must be an integer >= 1" in msg
    assert "needs finite numbers low <= high" in msg
    assert "unknown source 'cp2016'. Did you mean 'cp2015'?" in msg
    assert "elasticities.draws: must be an integer >= 0" in msg


def test_source_without_standard_errors(tmp_path):
    with pytest.raises(ScenarioError, match="'fgo2022' publishes no standard errors.*Set missing_se"):
        sweep_from_dict(toy_spec(tmp_path, elasticities={"sources": ["fgo2022"], "draws": 3}))
    sweep_from_dict(toy_spec(tmp_path, elasticities={"sources": ["fgo2022"], "draws": 3, "missing_se": 0.2}))


def test_parameter_in_grid_and_sample(tmp_path):
    with pytest.raises(ScenarioError, match="also in \\[grid\\]"):
        sweep_from_dict(toy_spec(tmp_path, sample={"n": 2, "parameters": {"kor_ret.rate": {"low": 0, "high": 1}}}))


def test_unknown_keys_and_missing_scenario(tmp_path):
    spec = toy_spec(tmp_path, scenario=str(tmp_path / "nope.toml"))
    spec["grids"] = {}
    with pytest.raises(ScenarioError) as info:
        sweep_from_dict(spec)
    msg = str(info.value)
    assert "grids: is not a sweep key. Did you mean 'grid'?" in msg
    assert "nope.toml' does not exist" in msg


def test_bad_backend_and_workers(tmp_path):
    with pytest.raises(DataError, match="must be a str among \\['serial', 'processes', 'dask'\\]. Got 'dsk'"):
        run_sweep(toy_spec(tmp_path), tmp_path / "o", backend="dsk")
    with pytest.raises(DataError, match="backend='dask' only"):
        run_sweep(toy_spec(tmp_path), tmp_path / "o", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(DataError, match="'workers' parameter"):
        run_sweep(toy_spec(tmp_path), tmp_path / "o", backend="processes", workers=0)


def test_sweep_file_errors_name_file_key_path_value_and_fix(tmp_path):
    """A sweep file is reported like a scenario file: file → key path → value → did-you-mean → fix,
    every problem at once."""
    from tariffsim.sweep import load_sweep
    from test_sweep_support import write_toy

    write_toy(tmp_path)
    path = tmp_path / "bad.toml"
    path.write_text('\ufeffname = "bad"\nscenario = "toy.toml"\nmodels = ["smart"]\nseed = "7"\nflows = "yes"\n'
                    '[grid]\n"kor_ret.rate" = [0.1, 0.1]\n'
                    '[elasticities]\nsources = ["cp2015"]\nlowr = 0.5\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    msg = str(info.value)
    assert f"{path}: 4 problems found" in msg
    for text in (f"{path} → seed: must be an integer >= 0; got '7'.",
                 f"{path} → flows: must be true or false; got 'yes'.",
                 f"{path} → grid.'kor_ret.rate': repeats a value: [0.1, 0.1].",
                 f"{path} → elasticities.lowr: is not a key of [elasticities]. Did you mean 'lower'?"):
        assert text in msg, text


@pytest.mark.parametrize("content, expected", [
    (b"name = \"x\xff\"\n", "is not UTF-8 text"),
    (b"name = [[[\n", "not valid TOML"),
    (None, "cannot be read"),
])
def test_unreadable_sweep_files(tmp_path, content, expected):
    from tariffsim.sweep import load_sweep

    path = tmp_path / "s.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ScenarioError, match=expected):
        load_sweep(path)


def test_spec_is_frozen_strict_and_documented(tmp_path):
    from pydantic import ValidationError

    from tariffsim.sweep import ElasticitySpec, SampleSpec, SweepSpec, Uniform
    from tariffsim.sweep.spec import Choice

    spec = sweep_from_dict(toy_spec(tmp_path))
    with pytest.raises(ValidationError, match="frozen"):
        spec.seed = 4
    for model in (SweepSpec, SampleSpec, ElasticitySpec, Uniform, Choice):
        assert model.model_config["extra"] == "forbid" and model.model_config["frozen"]
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"
    assert Uniform(0.1, 0.2) == Uniform(low=0.1, high=0.2) and Choice((0, 1)).values == (0.0, 1.0)
    assert spec.with_chunk_size(7).chunk_size == 7 and spec.chunk_size == 10
    with pytest.raises(ScenarioError, match="chunk_size: must be an integer >= 1; got 0"):
        spec.with_chunk_size(0)
