"""Backend configuration: defaults < YAML < environment < flags; unknown things fail naming key and file."""
from __future__ import annotations

import pytest

from sortingview.backend.config import BackendConfig, load_config
from sortingview.errors import ConfigError
from sortingview.tasks import HANDLER_TYPES


def _yaml(tmp_path, text: str) -> str:
    p = tmp_path / "sv.yaml"
    p.write_text(text)
    return str(p)


def test_defaults_are_parallel_handlers_of_four_workers_and_one_sorting_worker():
    cfg = load_config(env={})
    assert [h.name for h in cfg.handlers] == list(HANDLER_TYPES)
    assert all((h.type, h.num_workers, h.max_attempts) == ("parallel", 4, 3) for h in cfg.handlers
               if h.name != "sorting")
    assert (cfg.handler("sorting").num_workers, cfg.handler("sorting").timeout_s) == (1, 24 * 3600)
    assert (cfg.channel, cfg.channel_url, cfg.backend_id, cfg.port) == ("default", None, None, 15310)


def test_yaml_is_merged_over_the_defaults(tmp_path):
    path = _yaml(tmp_path, """
job_handlers:
  correlograms: {type: parallel, params: {num_workers: 2}, timeout_s: 5, max_attempts: 1}
  waveforms: {type: dask, params: {scheduler_address: "tcp://10.0.0.5:8786"}}
  misc: {type: inline}
task_modules: [mylab.tasks, ./extra.py]
lease_s: 7.5
""")
    cfg = load_config(path, env={})
    corr = cfg.handler("correlograms")
    assert (corr.type, corr.num_workers, corr.timeout_s, corr.max_attempts) == ("parallel", 2, 5.0, 1)
    assert cfg.handler("waveforms").scheduler_address == "tcp://10.0.0.5:8786"
    assert cfg.handler("misc").type == "inline"
    assert cfg.handler("metrics") == BackendConfig().handler("metrics")
    assert cfg.task_modules == ("mylab.tasks", str(tmp_path / "extra.py"))
    assert cfg.lease_s == 7.5 and cfg.source == path


def test_precedence_defaults_yaml_env_flags(tmp_path):
    path = _yaml(tmp_path, "channel: from-yaml\nbackend_id: yaml-id\n")
    assert load_config(path, env={}).channel == "from-yaml"
    env = {"SORTINGVIEW_CHANNEL": "from-env", "SORTINGVIEW_JOB_HANDLER_CONFIG": path}
    cfg = load_config(env=env)
    assert (cfg.channel, cfg.backend_id) == ("from-env", "yaml-id")
    cfg = load_config(env=env, overrides={"channel": "from-flag", "backend_id": None})
    assert (cfg.channel, cfg.backend_id) == ("from-flag", "yaml-id")


def test_the_example_file_is_valid_and_documents_every_key():
    from sortingview.backend import config as mod

    text = open("sortingview.yaml.example").read()
    cfg = load_config("sortingview.yaml.example", env={})
    assert cfg.handler("misc").num_workers == 4
    for key in (*mod._TOP_KEYS, *mod._HANDLER_KEYS, "num_workers", "scheduler_address", *HANDLER_TYPES):
        assert key in text, key


@pytest.mark.parametrize("text, where", [
    ("job_handlers:\n  correlogram: {type: parallel}\n", "job_handlers.correlogram: unknown handler name"),
    ("job_handlers:\n  misc: {type: threads}\n", "job_handlers.misc.type: unknown handler type 'threads'"),
    ("job_handlers:\n  misc: {type: parallel, params: {workers: 2}}\n", "job_handlers.misc.params.workers"),
    ("job_handlers:\n  misc: {type: inline, params: {num_workers: 2}}\n", "job_handlers.misc.params.num_workers"),
    ("job_handlers:\n  misc: {type: parallel, timeout: 3}\n", "job_handlers.misc.timeout: unknown key"),
    ("job_handlers:\n  misc: {params: {num_workers: 0}}\n", "num_workers must be a whole number >= 1"),
    ("job_handlers:\n  misc: {timeout_s: -1}\n", "timeout_s must be a positive number"),
    ("job_handler:\n  misc: {}\n", "job_handler: unknown key"),
    ("task_modules: mylab.tasks\n", "task_modules must be a list"),
    ("channel: '../x'\n", "channel name"),
    ("job_handlers: [1, 2]\n", "job_handlers must be a mapping"),
    ("job_handlers:\n  misc: {type: [parallel\n", "is not valid YAML"),
])
def test_bad_configuration_names_the_key_and_the_file(tmp_path, text, where):
    path = _yaml(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert where in str(err.value) and path in str(err.value)


def test_a_missing_config_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="does not exist.*sortingview.yaml.example"):
        load_config(env={"SORTINGVIEW_JOB_HANDLER_CONFIG": str(tmp_path / "nope.yaml")})


def test_config_is_frozen():
    cfg = load_config(env={})
    with pytest.raises(AttributeError):
        cfg.channel = "x"
