# ruff: noqa
# mypy: ignore-errors
"""templates/docker/Dockerfile.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "80ba65180ddcb494f28c2c082ebfed69c5125ff23b1d8a46ce5de411f4c77960"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'docker/Dockerfile.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_model = resolve('model')
    l_0_project = resolve('project')
    l_0_python_variant = resolve('python_variant')
    l_0_python_default = resolve('python_default')
    l_0_base = resolve('base')
    try:
        t_1 = environment.filters['comment']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'comment' found.")
    try:
        t_2 = environment.filters['docker_string']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'docker_string' found.")
    try:
        t_3 = environment.filters['image_ref']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'image_ref' found.")
    try:
        t_4 = environment.filters['image_tag_suffix']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'image_tag_suffix' found.")
    try:
        t_5 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    pass
    yield '# Serving image for model "'
    yield str(t_1((undefined(name='model') if l_0_model is missing else l_0_model)))
    yield '" of project "'
    yield str(t_1((undefined(name='project') if l_0_project is missing else l_0_project)))
    yield '".\n# Layers run from the least to the most often changing: base, CA certificates, Python\n# dependencies, serving code, the repository\'s src/, then the model artifact last, so a new model\n# version rebuilds only the final layers. mlopsctl builds this from a temporary context holding\n# these files plus requirements-model.txt (scikit-learn and friends pinned to the versions that\n# trained the version), ca-certificates/, src/ and model/ (artifact + metadata.json).\n'
    if (not t_5((undefined(name='python_variant') if l_0_python_variant is missing else l_0_python_variant))):
        pass
        yield 'ARG PYTHON_VERSION='
        yield str(t_3((undefined(name='python_default') if l_0_python_default is missing else l_0_python_default)))
        yield '\nFROM python:${PYTHON_VERSION}'
        yield str(t_4((undefined(name='python_variant') if l_0_python_variant is missing else l_0_python_variant)))
        yield '\n'
    else:
        pass
        yield 'FROM '
        yield str(t_3((undefined(name='base') if l_0_base is missing else l_0_base)))
        yield '\n'
    yield '\nENV PYTHONDONTWRITEBYTECODE=1 \\\n    PYTHONUNBUFFERED=1 \\\n    PIP_NO_CACHE_DIR=1 \\\n    PIP_DISABLE_PIP_VERSION_CHECK=1 \\\n    PIP_ROOT_USER_ACTION=ignore\n\n# Extra CA certificates (images.ca_certificates) for builds behind TLS-intercepting proxies;\n# copied in at build time only, never kept in the repository.\nCOPY ca-certificates/ /usr/local/share/ca-certificates/mlopsctl/\nSHELL ["/bin/sh", "-eu", "-c"]\nRUN if ls /usr/local/share/ca-certificates/mlopsctl/*.crt >/dev/null 2>&1; then update-ca-certificates >/dev/null; fi\nENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\\n    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n\nWORKDIR /app\nCOPY requirements.txt requirements-model.txt ./\nRUN python -m pip install --no-cache-dir -r requirements.txt -r requirements-model.txt\n\nCOPY serve.py capture.py ./\n\n# User code the model\'s pickle refers to (an estimator class under src., a custom train\n# command\'s objects): the repository\'s src/*.py as of the version\'s commit, empty for models that\n# need none. Importable as src.<module> (and <module>, as when the train command ran src/...).\n# Extra pip requirements of that code are not installed: only requirements.txt and the pins are.\nCOPY src/ /app/src/\nENV PYTHONPATH=/app\n\n# Runs as an unprivileged user; the files copied in stay owned by root, read-only for it.\nUSER 10001:10001\nEXPOSE 8080\nHEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \\\n    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen(\'http://127.0.0.1:8080/health\', timeout=2)"]\nCMD ["python", "/app/serve.py"]\n\n# The model layer, last: a new model version rebuilds only from here. Labels in one step\n# (each LABEL is a build step) carry what mlopsctl reads back from the engine.\nCOPY model/ /app/model/\nARG MLOPSCTL_VERSION=0\nARG MLOPSCTL_CONTEXT_DIGEST=unknown\nARG MLOPSCTL_CONTEXT_PARTS={}\nARG MLOPSCTL_REVISION=unknown\nLABEL mlopsctl.project="'
    yield str(t_2((undefined(name='project') if l_0_project is missing else l_0_project)))
    yield '" \\\n      mlopsctl.model="'
    yield str(t_2((undefined(name='model') if l_0_model is missing else l_0_model)))
    yield '" \\\n      mlopsctl.version="${MLOPSCTL_VERSION}" \\\n      mlopsctl.context-digest="${MLOPSCTL_CONTEXT_DIGEST}" \\\n      mlopsctl.context-parts="${MLOPSCTL_CONTEXT_PARTS}" \\\n      org.opencontainers.image.title="'
    yield str(t_2((undefined(name='project') if l_0_project is missing else l_0_project)))
    yield '/'
    yield str(t_2((undefined(name='model') if l_0_model is missing else l_0_model)))
    yield '" \\\n      org.opencontainers.image.revision="${MLOPSCTL_REVISION}"\n'

blocks = {}
debug_info = '1=47&7=51&8=54&9=56&11=61&54=64&55=66&59=68'
