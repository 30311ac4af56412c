"""Backend configuration: parsed once, validated, into frozen dataclasses.

Precedence: built-in defaults < YAML file (``--config`` or ``$SORTINGVIEW_JOB_HANDLER_CONFIG``) < environment
(``SORTINGVIEW_CHANNEL``, ``SORTINGVIEW_CHANNEL_URL``, ``SORTINGVIEW_BACKEND_ID``) < command-line flags.
Anything unknown in the file (a key, a handler name, a handler type, a parameter) is a :class:`ConfigError`
naming the key and the file, raised at start-up rather than when the first task arrives.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ..errors import ConfigError
from ..tasks.registry import HANDLER_TYPES

HANDLER_KINDS = ("parallel", "inline", "dask")
_PARAMS = {"parallel": ("num_workers",), "inline": (), "dask": ("scheduler_address", "num_workers")}
_HANDLER_KEYS = ("type", "params", "timeout_s", "max_attempts", "memory_limit_gb")
_TOP_KEYS = ("job_handlers", "task_modules", "channel", "channel_url", "backend_id", "lease_s", "grace_s",
             "host", "port", "unserved_expiry_s")
#: the address space a parallel worker may take unless the YAML says otherwise (0 there: no limit)
DEFAULT_MEMORY_LIMIT_GB = 4.0
ENV_CONFIG = "SORTINGVIEW_JOB_HANDLER_CONFIG"
#: a sorter uses the machine's cores and memory by itself: one at a time, for up to a day, unless the YAML says
_HANDLER_DEFAULTS: dict[str, dict] = {"sorting": {"num_workers": 1, "timeout_s": 24 * 3600.0}}


@dataclass(frozen=True)
class HandlerConfig:
    """How tasks of one handler type run."""

    name: str
    type: str = "parallel"
    num_workers: int = 4
    scheduler_address: str | None = None
    timeout_s: float = 3600.0
    max_attempts: int = 3
    memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB  # per parallel worker process; 0: none

    @property
    def stops_running_tasks(self) -> bool:
        """Whether a task it runs can be stopped (``Channel.request_stop``): a parallel handler kills the
        worker process; inline and dask handlers cannot interrupt a task."""
        return self.type == "parallel"

    def describe(self) -> str:
        if self.type == "inline":
            return "inline"
        where = f", scheduler {self.scheduler_address}" if self.scheduler_address else ""
        return f"{self.type} x{self.num_workers}{where}"


@dataclass(frozen=True)
class BackendConfig:
    """Everything a backend needs to know, validated."""

    handlers: tuple[HandlerConfig, ...] = tuple(HandlerConfig(h, **_HANDLER_DEFAULTS.get(h, {})) for h in HANDLER_TYPES)
    task_modules: tuple[str, ...] = ()
    channel: str = "default"
    channel_url: str | None = None
    backend_id: str | None = None
    lease_s: float = 30.0
    grace_s: float = 30.0
    host: str = "127.0.0.1"
    port: int = 15310
    unserved_expiry_s: float = 3600.0  # jobs for a backend id that no live backend serves fail after this
    source: str = field(default="(defaults)", compare=False)

    def handler(self, name: str) -> HandlerConfig:
        for h in self.handlers:
            if h.name == name:
                return h
        raise ConfigError(f"no job handler {name!r}; handler types are {', '.join(HANDLER_TYPES)}")


# --- checking values ------------------------------------------------------------------------------------
def _where(source: str, key: str) -> str:
    return f"{source}: {key}"


def _number(value: Any, source: str, key: str, *, unit: str, allow_zero: bool = False) -> float:
    """A finite number > 0 (>= 0 with ``allow_zero``); NaN and infinity are refused."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        least = "0 or more" if allow_zero else "positive"
        raise ConfigError(f"{_where(source, key)} must be a {least} number of {unit} (finite), got {value!r}")
    return float(value)


def _positive_number(value: Any, source: str, key: str) -> float:
    return _number(value, source, key, unit="seconds")


def _port(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(f"{_where(source, key)} must be a TCP port number from 1 to 65535, got {value!r}")
    return value


def _positive_int(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{_where(source, key)} must be a whole number >= 1, got {value!r}")
    return value


def _string(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{_where(source, key)} must be a non-empty string, got {value!r}")
    return value


def _unknown(keys: Any, allowed: tuple[str, ...], source: str, where: str) -> None:
    extra = sorted(set(keys) - set(allowed))
    if extra:
        known = ", ".join(allowed) or "(none)"
        raise ConfigError(f"{_where(source, where + extra[0])}: unknown key; the keys allowed here are {known}")


def _mapping(value: Any, source: str, key: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{_where(source, key)} must be a mapping (key: value lines), got {value!r}")
    return value


def _handler(name: str, raw: Any, base: HandlerConfig, source: str) -> HandlerConfig:
    key = f"job_handlers.{name}"
    raw = _mapping(raw, source, key)
    _unknown(raw, _HANDLER_KEYS, source, key + ".")
    kind = raw.get("type", base.type)
    if kind not in HANDLER_KINDS:
        raise ConfigError(f"{_where(source, key + '.type')}: unknown handler type {kind!r}; "
                          f"use one of {', '.join(HANDLER_KINDS)}")
    params = _mapping(raw.get("params") or {}, source, key + ".params")
    _unknown(params, _PARAMS[kind], source, f"{key}.params.")
    out = replace(base, type=kind)
    if "num_workers" in params:
        out = replace(out, num_workers=_positive_int(params["num_workers"], source, f"{key}.params.num_workers"))
    if "scheduler_address" in params:
        out = replace(out, scheduler_address=_string(params["scheduler_address"], source,
                                                     f"{key}.params.scheduler_address"))
    elif kind != "dask":
        out = replace(out, scheduler_address=None)
    if "timeout_s" in raw:
        out = replace(out, timeout_s=_positive_number(raw["timeout_s"], source, key + ".timeout_s"))
    if "max_attempts" in raw:
        out = replace(out, max_attempts=_positive_int(raw["max_attempts"], source, key + ".max_attempts"))
    if "memory_limit_gb" in raw:
        out = replace(out, memory_limit_gb=_number(raw["memory_limit_gb"], source, key + ".memory_limit_gb",
                                                   unit="gigabytes (0 for no limit)", allow_zero=True))
    return out


def _from_mapping(cfg: BackendConfig, raw: Any, source: str) -> BackendConfig:
    if raw is None:
        return replace(cfg, source=source)
    raw = _mapping(raw, source, "(top level)")
    _unknown(raw, _TOP_KEYS, source, "")
    changes: dict[str, Any] = {"source": source}
    if "job_handlers" in raw:
        handlers = {h.name: h for h in cfg.handlers}
        for name, value in _mapping(raw["job_handlers"] or {}, source, "job_handlers").items():
            if name not in handlers:
                raise ConfigError(f"{_where(source, 'job_handlers.' + str(name))}: unknown handler name; "
                                  f"handler names are {', '.join(HANDLER_TYPES)}")
            handlers[name] = _handler(name, value, handlers[name], source)
        changes["handlers"] = tuple(handlers[h] for h in HANDLER_TYPES)
    if "task_modules" in raw:
        mods = raw["task_modules"] or []
        if not isinstance(mods, list):
            raise ConfigError(f"{_where(source, 'task_modules')} must be a list of module names or .py paths")
        base = os.path.dirname(os.path.abspath(source)) if os.path.isfile(source) else os.getcwd()
        changes["task_modules"] = tuple(_module_entry(m, base, source) for m in mods)
    for key in ("channel", "channel_url", "backend_id", "host"):
        if raw.get(key) is not None:
            changes[key] = _string(raw[key], source, key)
    for key in ("lease_s", "grace_s", "unserved_expiry_s"):
        if key in raw:
            changes[key] = _positive_number(raw[key], source, key)
    if "port" in raw:
        changes["port"] = _port(raw["port"], source, "port")
    return replace(cfg, **changes)


def _module_entry(entry: Any, base: str, source: str) -> str:
    entry = _string(entry, source, "task_modules[]")
    if entry.endswith(".py"):  # a path: make it absolute so worker processes find it from anywhere
        return os.path.normpath(os.path.join(base, os.path.expanduser(entry)))
    return entry


def _read_yaml(path: str) -> Any:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist; fix --config or "
                          f"${ENV_CONFIG}, or copy sortingview.yaml.example") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc


def load_config(path: str | None = None, *, env: Mapping[str, str] | None = None,
                overrides: Mapping[str, Any] | None = None) -> BackendConfig:
    """Defaults, then the YAML file (``path`` or ``$SORTINGVIEW_JOB_HANDLER_CONFIG``), then env, then overrides.

    ``overrides`` are command-line values (None entries are ignored); keys as in :class:`BackendConfig`.
    """
    env = os.environ if env is None else env
    path = path or env.get(ENV_CONFIG) or None
    cfg = BackendConfig()
    if path:
        cfg = _from_mapping(cfg, _read_yaml(path), path)
    from_env = {"channel": env.get("SORTINGVIEW_CHANNEL"), "channel_url": env.get("SORTINGVIEW_CHANNEL_URL"),
                "backend_id": env.get("SORTINGVIEW_BACKEND_ID")}
    cfg = replace(cfg, **{k: v for k, v in from_env.items() if v})
    cfg = replace(cfg, **{k: v for k, v in (overrides or {}).items() if v is not None})
    _port(cfg.port, cfg.source if "port" not in (overrides or {}) else "--port", "port")
    from ..errors import ChannelError
    from .channel import check_channel_name

    try:
        check_channel_name(cfg.channel)
    except ChannelError as exc:
        raise ConfigError(f"{cfg.source}: channel: {exc}") from None
    return cfg
