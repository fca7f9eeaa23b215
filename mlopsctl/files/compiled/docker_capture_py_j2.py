# ruff: noqa
# mypy: ignore-errors
"""templates/docker/capture.py.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "2aed9a8c84d06690ff9ab6b4c113a88930fcd3597c21d0fb1e88fd9cd7910f38"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'docker/capture.py.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_capture_source = resolve('capture_source')
    pass
    yield str((undefined(name='capture_source') if l_0_capture_source is missing else l_0_capture_source))

blocks = {}
debug_info = '1=12'
