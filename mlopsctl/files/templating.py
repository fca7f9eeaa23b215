"""Render templates/ with Jinja2, sandboxed and strict.

Sandboxed, because templates only format spec values and must not reach into Python; strict
(``StrictUndefined``), because a misspelt variable must fail loudly instead of writing an
empty string into a workflow. Whitespace handling is Jinja's default, plus
``keep_trailing_newline`` so a file ends the way its template does. Jinja2 is imported only
when something is rendered.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.files.escape import FILTERS, UnsafeValue, shell_quote, yaml_quote

__all__ = ["RenderMemo", "environment", "render", "shell_quote", "tojson", "toyaml", "yaml_quote"]

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

# One Environment per template directory per process: Jinja compiles each template once.
_ENVS: dict[str, SandboxedEnvironment] = {}


def tojson(value: Any, indent: int | None = None) -> str:
    """JSON text of a value; unlike Jinja's built-in, no HTML escaping (these are not web pages)."""
    return json.dumps(value, indent=indent, ensure_ascii=False)


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
# Words YAML 1.1 readers (PyYAML, many CI systems) turn into booleans or null.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value: Any) -> str:
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return yaml_quote(value)


def _block(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{_scalar(str(k))}:")
                lines += _block(v, indent + 2)
            else:
                lines.append(f"{pad}{_scalar(str(k))}: {_inline(v)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub = _block(item, indent + 2)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines += sub[1:]
            else:
                lines.append(f"{pad}- {_inline(item)}")
    return lines


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def toyaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML of a mapping or list, every line after the first indented by ``indent``.

    Strings that a YAML 1.1 reader would take for something else (``yes``, ``3.10``) are quoted.
    """
    if not isinstance(value, (dict, list)) or not value:
        return _inline(value)
    lines = _block(value, 0)
    pad = " " * indent
    return "\n".join(line if i == 0 else pad + line for i, line in enumerate(lines))


def environment(search_path: Path | str | None = None) -> SandboxedEnvironment:
    """The cached sandboxed Environment for a template directory (default ``paths.TEMPLATES``)."""
    from mlopsctl.workspace import paths

    key = str(search_path if search_path is not None else paths.TEMPLATES)
    env = _ENVS.get(key)
    if env is None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        env = SandboxedEnvironment(
            loader=_loader(key),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            auto_reload=False,  # templates ship with the package; skip a stat per render
        )
        env.filters.update(FILTERS, tojson=tojson, toyaml=toyaml)
        _ENVS[key] = env
    return env


def compile_key(env: Any, name: str, source: str) -> str:
    """What a template compiles from: Jinja's version, the environment's settings that shape the code,
    its filters and tests, the template's name and source. An ahead-of-time compiled template
    (:mod:`mlopsctl.files.compiled`) is used only under the same key."""
    import hashlib

    import jinja2

    settings = (type(env).__name__, jinja2.__version__, env.block_start_string, env.block_end_string,
                env.variable_start_string, env.variable_end_string, env.comment_start_string,
                env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks,
                env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline, env.autoescape, env.optimized,
                sorted(env.extensions), sorted(env.filters), sorted(env.tests))
    return hashlib.sha256(repr((settings, name, source)).encode()).hexdigest()


def compiled_source(env: Any, name: str) -> str:
    """The module text of a template compiled ahead of time (``scripts/make_generated.py`` writes it)."""
    import jinja2

    source, filename, _ = env.loader.get_source(env, name)
    return _COMPILED.format(name=name, version=jinja2.__version__, key=compile_key(env, name, source),
                            code=env.compile(source, name, filename, raw=True, defer_init=True))


_COMPILED = '''# ruff: noqa
# mypy: ignore-errors
"""templates/{name} compiled by Jinja {version} (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "{key}"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

{code}
'''


def _loader(folder: str) -> Any:
    """A FileSystemLoader that takes a template's ahead-of-time compiled module when it was compiled
    from this very source with these settings, and otherwise compiles the source as Jinja does."""
    from jinja2 import FileSystemLoader

    class Loader(FileSystemLoader):
        def load(self, environment: Any, name: str, globals: Any = None) -> Any:
            source, filename, _ = self.get_source(environment, name)
            module = _compiled(environment, name, source)
            if module is None:
                return super().load(environment, name, globals)
            module["__file__"] = filename  # errors name the template, not the module
            return environment.template_class.from_module_dict(environment, module, {} if globals is None else globals)

    return Loader(folder)


def _compiled(env: Any, name: str, source: str) -> dict[str, Any] | None:
    """A fresh namespace of the template's compiled module (Jinja binds it to ``env``), or None."""
    import importlib.util

    from mlopsctl.files.compiled import FOLDER, module_name

    path = FOLDER / f"{module_name(name)}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"mlopsctl.files.compiled.{module_name(name)}", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)  # a fresh module each time (from its .pyc): one per environment
    except (ImportError, SyntaxError, OSError):
        return None  # a broken installation: the template is compiled from its source
    namespace: dict[str, Any] = module.__dict__
    return namespace if namespace.get("COMPILED_FROM") == compile_key(env, name, source) else None


def render(template: str, context: dict[str, Any], *, search_path: Path | str | None = None) -> str:
    """Render ``template`` (a name under templates/) with ``context``.

    Every failure is an MlopsError naming the template (and line, where Jinja knows it):
    a missing template, a syntax error, an undefined variable, a sandbox violation.
    """
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError, TemplateError

    env = environment(search_path)
    where = f"templates/{template}"
    try:
        return env.get_template(template).render(context)
    except TemplateNotFound as e:
        missing = e.name if e.name and e.name != template else template
        raise MlopsError(f"template {missing!r} not found (rendering {where}; looked in {_dir(env)})") from None
    except TemplateSyntaxError as e:
        name = f"templates/{e.name}" if e.name else where
        raise MlopsError(f"{name}:{e.lineno}: template syntax error: {e.message}") from None
    except UndefinedError as e:
        line = _template_line(e, template)
        at = f"{where}:{line}" if line else where
        raise MlopsError(
            f"{at}: undefined variable: {e.message}; the template needs a value the file set does not provide"
        ) from None
    except UnsafeValue as e:
        # A spec value the file's syntax cannot carry: the file provider adds where it came from.
        line = _template_line(e, template)
        raise UnsafeValue(f"{where}:{line}: {e}" if line else f"{where}: {e}") from None
    except SecurityError as e:
        raise MlopsError(f"{where}: not allowed in a template: {e}") from None
    except TemplateError as e:
        raise MlopsError(f"{where}: {e}") from None


def _dir(env: Any) -> str:
    searchpath = getattr(env.loader, "searchpath", None)
    return ", ".join(searchpath) if searchpath else "?"


def _template_line(exc: BaseException, template: str) -> int | None:
    """The template line an error came from: Jinja rewrites tracebacks to point at it."""
    tb = exc.__traceback__
    line = None
    suffix = Path(template).as_posix()
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if filename.endswith(suffix):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _stand_in(value: Any) -> Any:
    """What a :class:`~mlopsctl.files.Deferred` context value is keyed by (never its text)."""
    from mlopsctl.files import Deferred

    if isinstance(value, Deferred):
        return {"deferred": value.key}
    raise TypeError(f"{type(value).__name__} is not JSON data")


_KEY_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_stand_in).encode


class RenderMemo:
    """Body digests of earlier renders, so a no-op plan need not import or run Jinja at all.

    A render is a pure function of the template sources, the filters here, and the context;
    the key covers all three: a salt made of every file under the template directory (so
    includes count), this module's own source and the mlopsctl version, plus the template
    name and the context as JSON, its keys in their order (the order the file is written in).
    Kept at ``<root>/.mlopsctl/cache/renders.json``; only keys used in a run are kept when it is
    saved. A corrupt file is ignored. On a CI runner (``CI`` set) a plan that finds none makes
    none: the clone is new and gone after the job, so no key would be looked up again.
    """

    RELPATH = ".mlopsctl/cache/renders.json"

    def __init__(self, root: Path, search_path: Path | str | None = None) -> None:
        self.root = Path(root)
        self.path = self.root / self.RELPATH
        self._search = Path(search_path) if search_path is not None else None
        self._salt: str | None = None
        self._old: dict[str, str] | None = None
        self._used: dict[str, str] = {}

    def key(self, template: str, context: dict[str, Any], digests: Any) -> str | None:
        """The memo key, or None when the context is not plain JSON data (then no memo)."""
        try:
            # Keys in their order, not sorted: a template writes a mapping in its order, so the same
            # keys in another order are another text (a spec's features reordered).
            blob = _KEY_JSON(context)
        except (TypeError, ValueError):
            return None
        if self._salt is None:
            self._salt = self._compute_salt(digests)
        import hashlib

        return hashlib.sha256(f"{self._salt}\0{template}\0{blob}".encode()).hexdigest()

    def get(self, key: str) -> str | None:
        value = self._load().get(key)
        if value is not None:
            self._used[key] = value
        return value

    def put(self, key: str, digest: str) -> None:
        self._used[key] = digest

    def save(self) -> bool:
        """Write the memo atomically when the keys used this run differ from what was loaded."""
        if not self._used or self._used == self._load():
            return False
        from mlopsctl.workspace.fsafe import write_atomic

        blob = json.dumps({"format": 1, "renders": self._used}, separators=(",", ":"), sort_keys=True)
        try:
            write_atomic(self.path, blob.encode(), 0o644, root=self.root, durable=False)
        except OSError:
            return False
        self._old = dict(self._used)
        return True

    def _load(self) -> dict[str, str]:
        if self._old is None:
            self._old = {}
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(raw, dict) and raw.get("format") == 1 and isinstance(raw.get("renders"), dict):
                    self._old = {k: v for k, v in raw["renders"].items() if isinstance(v, str)}
            except (OSError, ValueError):
                pass
        return self._old

    def _compute_salt(self, digests: Any) -> str:
        import os

        from mlopsctl import __version__
        from mlopsctl.workspace import paths

        top = str(self._search if self._search is not None else paths.TEMPLATES)
        parts = [__version__, digests.digest(Path(__file__).resolve())]
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                parts.append(f"{os.path.relpath(full, top)}={digests.digest(Path(full))}")
        return "\n".join(parts)
