# ruff: noqa
# mypy: ignore-errors
"""templates/scaffold/_common/gitignore.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "a8da843a0e728835d56c39c4dfb938ad0bd0f8681d9b6f5f01f11ba1d8d9e4bf"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'scaffold/_common/gitignore.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    pass
    yield "# mlopsctl's local state (apply history, lock): never committed\n.mlopsctl/\n# Python\n__pycache__/\n*.pyc\n.venv/\n"

blocks = {}
debug_info = ''
