# ruff: noqa
# mypy: ignore-errors
"""templates/pipeline/dvc.yaml.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "76a67dcd24d792a68ec6a3e24043102ab491beb4748fea3a4732ce0cbcbf7c4e"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'pipeline/dvc.yaml.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_body = resolve('body')
    pass
    yield '\n# Run `dvc status`, `dvc repro` or `dvc metrics diff` here as with any DVC pipeline;\n# edit the model specs under models/ instead of this file: mlopsctl rewrites it.\n'
    yield str((undefined(name='body') if l_0_body is missing else l_0_body))
    yield '\n'

blocks = {}
debug_info = '5=13'
