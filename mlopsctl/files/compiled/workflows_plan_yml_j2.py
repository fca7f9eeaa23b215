# ruff: noqa
# mypy: ignore-errors
"""templates/workflows/plan.yml.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "2defb1a12c308b15d59362918914092146b5f600c4be69e937a7100fa10a6323"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'workflows/plan.yml.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_ci = resolve('ci')
    l_0_actions = resolve('actions')
    l_0_remote = resolve('remote')
    l_0_gh = l_0_checkout = l_0_setup_python = l_0_install = l_0_dvc_cache = l_0_dvc_pull = l_0_remote_env = l_0_credentials = missing
    try:
        t_1 = environment.filters['gh_branch']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'gh_branch' found.")
    try:
        t_2 = environment.filters['gha']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'gha' found.")
    pass
    included_template = environment.get_template('workflows/_common.j2', 'workflows/plan.yml.j2')._get_default_module(context)
    l_0_gh = getattr(included_template, 'gh', missing)
    if l_0_gh is missing:
        l_0_gh = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'gh'", name='gh')
    l_0_checkout = getattr(included_template, 'checkout', missing)
    if l_0_checkout is missing:
        l_0_checkout = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'checkout'", name='checkout')
    l_0_setup_python = getattr(included_template, 'setup_python', missing)
    if l_0_setup_python is missing:
        l_0_setup_python = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'setup_python'", name='setup_python')
    l_0_install = getattr(included_template, 'install', missing)
    if l_0_install is missing:
        l_0_install = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'install'", name='install')
    l_0_dvc_cache = getattr(included_template, 'dvc_cache', missing)
    if l_0_dvc_cache is missing:
        l_0_dvc_cache = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'dvc_cache'", name='dvc_cache')
    l_0_dvc_pull = getattr(included_template, 'dvc_pull', missing)
    if l_0_dvc_pull is missing:
        l_0_dvc_pull = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'dvc_pull'", name='dvc_pull')
    l_0_remote_env = getattr(included_template, 'remote_env', missing)
    if l_0_remote_env is missing:
        l_0_remote_env = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'remote_env'", name='remote_env')
    l_0_credentials = getattr(included_template, 'credentials', missing)
    if l_0_credentials is missing:
        l_0_credentials = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/plan.yml.j2') does not export the requested name 'credentials'", name='credentials')
    context.vars.update({'gh': l_0_gh, 'checkout': l_0_checkout, 'setup_python': l_0_setup_python, 'install': l_0_install, 'dvc_cache': l_0_dvc_cache, 'dvc_pull': l_0_dvc_pull, 'remote_env': l_0_remote_env, 'credentials': l_0_credentials})
    context.exported_vars.difference_update(('gh', 'checkout', 'setup_python', 'install', 'dvc_cache', 'dvc_pull', 'remote_env', 'credentials'))
    yield '# The pull-request check: validate the specs, plan, and post the plan as one sticky comment.\nname: mlops plan\n\non:\n  pull_request:\n    branches: ['
    yield str(t_1(environment.getattr((undefined(name='ci') if l_0_ci is missing else l_0_ci), 'default_branch')))
    yield ']\n\n# Nothing by default; each job asks for exactly what it needs.\npermissions: {}\n\nconcurrency:\n  group: mlops-plan-'
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.event.pull_request.number'))
    yield '\n  cancel-in-progress: true\n\njobs:\n  plan:\n    name: Plan\n    runs-on: '
    yield str(t_2(environment.getattr((undefined(name='ci') if l_0_ci is missing else l_0_ci), 'runs_on')))
    yield '\n    timeout-minutes: 60\n    permissions:\n      contents: read # check out the pull request\n    outputs:\n      planned: '
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'steps.plan.outputs.planned'))
    yield '\n    steps:'
    yield str(environment.call(context, (undefined(name='checkout') if l_0_checkout is missing else l_0_checkout), (undefined(name='actions') if l_0_actions is missing else l_0_actions), 0))
    yield str(environment.call(context, (undefined(name='setup_python') if l_0_setup_python is missing else l_0_setup_python), (undefined(name='ci') if l_0_ci is missing else l_0_ci), (undefined(name='actions') if l_0_actions is missing else l_0_actions)))
    yield str(environment.call(context, (undefined(name='install') if l_0_install is missing else l_0_install), (undefined(name='ci') if l_0_ci is missing else l_0_ci), (undefined(name='remote') if l_0_remote is missing else l_0_remote)))
    yield str(environment.call(context, (undefined(name='dvc_cache') if l_0_dvc_cache is missing else l_0_dvc_cache), (undefined(name='actions') if l_0_actions is missing else l_0_actions)))
    yield str(environment.call(context, (undefined(name='dvc_pull') if l_0_dvc_pull is missing else l_0_dvc_pull), (undefined(name='remote') if l_0_remote is missing else l_0_remote), pr=True))
    yield "\n      - name: Validate the specs\n        # Problems become annotations on the pull request's diff (GITHUB_ACTIONS=true).\n        run: mlopsctl validate\n      - name: Plan\n        id: plan\n        # Trains what the pull request retrains (registering nothing), prints the Markdown plan with\n        # the candidates' metrics, deltas and gate verdicts, and (GITHUB_ACTIONS=true) writes the job\n        # summary. A failed gate fails this check."
    if environment.getattr((undefined(name='remote') if l_0_remote is missing else l_0_remote), 'env'):
        pass
        yield '\n        env:'
        yield str(environment.call(context, (undefined(name='remote_env') if l_0_remote_env is missing else l_0_remote_env), (undefined(name='remote') if l_0_remote is missing else l_0_remote)))
    yield '\n        run: |'
    yield str(environment.call(context, (undefined(name='credentials') if l_0_credentials is missing else l_0_credentials), (undefined(name='remote') if l_0_remote is missing else l_0_remote)))
    yield '\n          status=0\n          mlopsctl plan --train -o mlops.plan --format markdown > plan.md || status=$?\n          if [ -s plan.md ]; then echo "planned=true" >> "$GITHUB_OUTPUT"; fi\n          exit "$status"\n      - name: Upload the full plan\n        if: '
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), "!cancelled() && steps.plan.outputs.planned == 'true'"))
    yield '\n        uses: '
    yield str(environment.getattr((undefined(name='actions') if l_0_actions is missing else l_0_actions), 'upload_artifact'))
    yield "\n        with:\n          name: mlops-plan\n          path: |\n            plan.md\n            mlops.plan\n          if-no-files-found: ignore\n          retention-days: 30\n      - name: Draw the candidates' plots\n        if: "
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), "!cancelled() && steps.plan.outputs.planned == 'true'"))
    yield '\n        run: mlopsctl plots --out mlops-plots || true\n      - name: Upload the plots\n        if: '
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), "!cancelled() && steps.plan.outputs.planned == 'true'"))
    yield '\n        uses: '
    yield str(environment.getattr((undefined(name='actions') if l_0_actions is missing else l_0_actions), 'upload_artifact'))
    yield '\n        with:\n          name: mlops-plots\n          path: mlops-plots/\n          if-no-files-found: ignore\n          retention-days: 30\n\n  comment:\n    name: Comment on the pull request\n    needs: plan\n    # A pull request from a fork gets a read-only token: the job summary shows the plan instead.\n    if: '
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), "!cancelled() && needs.plan.outputs.planned == 'true' && github.event.pull_request.head.repo.full_name == github.repository"))
    yield '\n    runs-on: ubuntu-latest\n    timeout-minutes: 10\n    permissions:\n      pull-requests: write # post or update the one plan comment\n    steps:\n      - name: Download the plan\n        uses: '
    yield str(environment.getattr((undefined(name='actions') if l_0_actions is missing else l_0_actions), 'download_artifact'))
    yield '\n        with:\n          name: mlops-plan'
    yield str(environment.call(context, (undefined(name='setup_python') if l_0_setup_python is missing else l_0_setup_python), (undefined(name='ci') if l_0_ci is missing else l_0_ci), (undefined(name='actions') if l_0_actions is missing else l_0_actions), cache=False))
    yield str(environment.call(context, (undefined(name='install') if l_0_install is missing else l_0_install), (undefined(name='ci') if l_0_ci is missing else l_0_ci), (undefined(name='remote') if l_0_remote is missing else l_0_remote), minimal=True))
    yield '\n      - name: Post or update the plan comment\n        env:\n          GITHUB_TOKEN: '
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.token'))
    yield '\n          PR_NUMBER: '
    yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.event.pull_request.number'))
    yield '\n        run: mlopsctl comment --file plan.md --pr "$PR_NUMBER" --no-step-summary\n'

blocks = {}
debug_info = '1=27&7=55&13=57&19=59&24=61&26=63&27=64&28=65&29=66&30=67&39=69&41=72&44=74&50=76&51=78&60=80&63=82&64=84&75=86&82=88&85=90&86=91&89=93&90=95'
