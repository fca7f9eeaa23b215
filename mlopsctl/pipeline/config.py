"""DVC's configuration, read the way DVC reads it, without importing dvc.

DVC merges four files, later ones winning key by key: the system file
(``$DVC_SYSTEM_CONFIG_DIR`` or the platform's site config dir, ``/etc/xdg/dvc/config`` on
Linux), the global file (``$DVC_GLOBAL_CONFIG_DIR`` or ``~/.config/dvc/config``; what
``dvc cache dir --global`` and ``dvc remote add --global`` write), the repository's
``.dvc/config`` and the untracked ``.dvc/config.local``. Keys are case-insensitive; a path
(``cache.dir``, a remote's ``url``) is relative to the directory of the file that names it,
and ``~`` is expanded. This module reproduces exactly that (``dvc.config.Config``), so a
team's shared cache or a remote set in the global config is the one the plan looks at.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from mlopsctl.workspace import steady

_MEMO: dict[str, tuple[tuple[Any, ...], dict[str, dict[str, str]]]] = {}
_URL = re.compile(r"\w+://")
_NAMED = re.compile(r'^\s*(remote|machine|db)\s*"(.*)"\s*$')


def system_dir() -> str:
    env = os.environ.get("DVC_SYSTEM_CONFIG_DIR")
    if env:
        return env
    return _platform_dirs(*_dirs_env())[0]


def global_dir() -> str:
    env = os.environ.get("DVC_GLOBAL_CONFIG_DIR")
    if env:
        return env
    return _platform_dirs(*_dirs_env())[1]


def _dirs_env() -> tuple[str | None, ...]:
    return tuple(os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS"))


@functools.lru_cache(maxsize=8)
def _platform_dirs(*env: str | None) -> tuple[str, str]:
    """(site, user) config dirs for DVC, asked once per environment: a plan asks for every resource."""
    import platformdirs

    return (str(platformdirs.site_config_dir("dvc", "iterative")),
            str(platformdirs.user_config_dir("dvc", "iterative")))


def config_files(root: Path) -> list[Path]:
    """The files DVC reads, lowest precedence first."""
    return [Path(p) for p in _config_paths(root)]


_PATHS: dict[tuple[str, tuple[str | None, ...]], list[str]] = {}
_ENV = ("DVC_SYSTEM_CONFIG_DIR", "DVC_GLOBAL_CONFIG_DIR", "HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS")


def _config_paths(root: Path | str) -> list[str]:
    top = os.fspath(root)
    get = os.environ.get
    key = (top, tuple(get(k) for k in _ENV))
    paths = _PATHS.get(key)
    if paths is None:
        paths = _PATHS[key] = [os.path.join(system_dir(), "config"), os.path.join(global_dir(), "config"),
                               os.path.join(top, ".dvc", "config"), os.path.join(top, ".dvc", "config.local")]
    return paths


def _stat_key(paths: list[str]) -> tuple[Any, ...]:
    out: list[Any] = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def resolve_path(conf_dir: Path, value: str) -> str:
    """A path option as DVC resolves it (``Config._resolve``): URLs as they are, else absolute."""
    if _URL.match(value) or os.path.isabs(value):
        return value
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return expanded
    return os.path.abspath(os.path.join(conf_dir, value))


def _load(path: Path) -> dict[str, dict[str, str]]:
    from configobj import ConfigObj, ConfigObjError  # DVC's own parser (a light dependency of dvc)

    try:
        raw = ConfigObj(str(path), file_error=True, encoding="utf-8").dict()
    except (OSError, ConfigObjError, UnicodeDecodeError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for section, values in raw.items():
        if not isinstance(values, dict):
            continue
        name = section.lower()
        m = _NAMED.match(name)
        key = f'{m.group(1)} "{m.group(2)}"' if m else name.strip()
        opts = {str(k).lower(): str(v) for k, v in values.items() if not isinstance(v, dict)}
        if key == "cache" and "dir" in opts:
            opts["dir"] = resolve_path(path.parent, opts["dir"])
        if key.startswith('remote "') and "url" in opts:
            opts["url"] = resolve_path(path.parent, opts["url"])
        out[key] = opts
    return out


@steady.per_phase
def read_config(root: Path) -> dict[str, dict[str, str]]:
    """The merged configuration: section -> options (``core``, ``cache``, ``remote "name"`` ...).

    Paths are resolved to absolute ones. Memoised per content of the four files, and read once per
    steady phase (a plan being computed: :mod:`mlopsctl.workspace.steady`).
    """
    files = _config_paths(root)
    key = (*files, *_stat_key(files))
    hit = _MEMO.get(str(root))
    if hit is not None and hit[0] == key:
        return hit[1]
    merged: dict[str, dict[str, str]] = {}
    for path in files:
        if not os.path.isfile(path):
            continue
        for section, opts in _load(Path(path)).items():
            merged.setdefault(section, {}).update(opts)
    _MEMO[str(root)] = (key, merged)
    return merged


@steady.per_phase
def cache_dir(root: Path) -> Path:
    """DVC's cache directory: ``cache.dir`` from any level, else ``.dvc/cache``."""
    d = read_config(root).get("cache", {}).get("dir")
    return Path(d) if d else Path(root) / ".dvc" / "cache"


@steady.per_phase
def default_remote(root: Path) -> tuple[str, str] | None:
    """(name, url) of the default remote (``core.remote``); a local url is absolute."""
    config = read_config(root)
    name = config.get("core", {}).get("remote")
    if not name:
        return None
    url = config.get(f'remote "{name.lower()}"', {}).get("url")
    return (name, url) if url else None
