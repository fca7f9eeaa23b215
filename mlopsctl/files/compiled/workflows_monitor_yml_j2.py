# ruff: noqa
# mypy: ignore-errors
"""templates/workflows/monitor.yml.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "4aa7d50a25a64e11e2a3bbb8083256046aa14cc6cd693257b069e119bba0b7af"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'workflows/monitor.yml.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_schedules = resolve('schedules')
    l_0_scheduled_models = resolve('scheduled_models')
    l_0_gh = l_0_checkout = l_0_setup_python = l_0_install = l_0_dvc_cache = l_0_dvc_pull = l_0_remote_env = l_0_credentials = l_0_git_identity = missing
    try:
        t_1 = environment.filters['gh_string']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'gh_string' found.")
    try:
        t_2 = environment.filters['gha']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'gha' found.")
    try:
        t_3 = environment.filters['job_id']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'job_id' found.")
    try:
        t_4 = environment.filters['yaml_quote']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'yaml_quote' found.")
    pass
    included_template = environment.get_template('workflows/_common.j2', 'workflows/monitor.yml.j2')._get_default_module(context)
    l_0_gh = getattr(included_template, 'gh', missing)
    if l_0_gh is missing:
        l_0_gh = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'gh'", name='gh')
    l_0_checkout = getattr(included_template, 'checkout', missing)
    if l_0_checkout is missing:
        l_0_checkout = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'checkout'", name='checkout')
    l_0_setup_python = getattr(included_template, 'setup_python', missing)
    if l_0_setup_python is missing:
        l_0_setup_python = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'setup_python'", name='setup_python')
    l_0_install = getattr(included_template, 'install', missing)
    if l_0_install is missing:
        l_0_install = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'install'", name='install')
    l_0_dvc_cache = getattr(included_template, 'dvc_cache', missing)
    if l_0_dvc_cache is missing:
        l_0_dvc_cache = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'dvc_cache'", name='dvc_cache')
    l_0_dvc_pull = getattr(included_template, 'dvc_pull', missing)
    if l_0_dvc_pull is missing:
        l_0_dvc_pull = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'dvc_pull'", name='dvc_pull')
    l_0_remote_env = getattr(included_template, 'remote_env', missing)
    if l_0_remote_env is missing:
        l_0_remote_env = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'remote_env'", name='remote_env')
    l_0_credentials = getattr(included_template, 'credentials', missing)
    if l_0_credentials is missing:
        l_0_credentials = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'credentials'", name='credentials')
    l_0_git_identity = getattr(included_template, 'git_identity', missing)
    if l_0_git_identity is missing:
        l_0_git_identity = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/monitor.yml.j2') does not export the requested name 'git_identity'", name='git_identity')
    context.vars.update({'gh': l_0_gh, 'checkout': l_0_checkout, 'setup_python': l_0_setup_python, 'install': l_0_install, 'dvc_cache': l_0_dvc_cache, 'dvc_pull': l_0_dvc_pull, 'remote_env': l_0_remote_env, 'credentials': l_0_credentials, 'git_identity': l_0_git_identity})
    context.exported_vars.difference_update(('gh', 'checkout', 'setup_python', 'install', 'dvc_cache', 'dvc_pull', 'remote_env', 'credentials', 'git_identity'))
    yield "# Scheduled checks: each model's drift check runs on the cron in its spec (monitor.schedule).\n# A model with monitor.retrain.data checks that newer labelled data and, when it drifted past\n# the threshold, proposes it in a pull request (never a push to the default branch); the\n# pull request's plan shows the retraining. Other models check the requests their deployments\n# captured, which needs the runner that hosts them (ci.runs_on).\nname: mlops monitor\n\non:\n  schedule:"
    for l_1_s in (undefined(name='schedules') if l_0_schedules is missing else l_0_schedules):
        _loop_vars = {}
        pass
        yield '\n    - cron: '
        yield str(t_2(environment.getattr(l_1_s, 'cron')))
    l_1_s = missing
    yield '\n  workflow_dispatch:\n\n# Nothing by default; each job asks for exactly what it needs.\npermissions: {}\n\nconcurrency:\n  group: mlops-monitor\n  cancel-in-progress: false\n\njobs:'
    l_1_loop = missing
    for l_1_m, l_1_loop in LoopContext((undefined(name='scheduled_models') if l_0_scheduled_models is missing else l_0_scheduled_models), undefined):
        l_1_ci = resolve('ci')
        l_1_actions = resolve('actions')
        l_1_remote = resolve('remote')
        _loop_vars = {}
        pass
        yield '\n  drift-'
        yield str(t_3(environment.getattr(l_1_m, 'name')))
        yield ':\n    name: '
        yield str(t_2(str_join(('Drift check of ', environment.getattr(l_1_m, 'name'), ))))
        yield '\n    # Every model shares this workflow; a scheduled run only checks the models on its cron.\n    if: '
        yield str(t_4(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), str_join(("github.event_name == 'workflow_dispatch' || github.event.schedule == ", t_1(environment.getattr(l_1_m, 'schedule')), )), _loop_vars=_loop_vars)))
        yield '\n    runs-on: '
        yield str(t_2(environment.getattr((undefined(name='ci') if l_1_ci is missing else l_1_ci), 'runs_on')))
        yield '\n    timeout-minutes: 60\n    permissions:'
        if environment.getattr(l_1_m, 'retrain'):
            pass
            yield "\n      contents: write # push the proposal's branch (never the default branch)\n      pull-requests: write # open or update the retraining pull request"
        else:
            pass
            yield '\n      contents: read # check out the specs'
        yield '\n    steps:'
        yield str(environment.call(context, (undefined(name='checkout') if l_0_checkout is missing else l_0_checkout), (undefined(name='actions') if l_1_actions is missing else l_1_actions), _loop_vars=_loop_vars))
        yield str(environment.call(context, (undefined(name='setup_python') if l_0_setup_python is missing else l_0_setup_python), (undefined(name='ci') if l_1_ci is missing else l_1_ci), (undefined(name='actions') if l_1_actions is missing else l_1_actions), _loop_vars=_loop_vars))
        yield str(environment.call(context, (undefined(name='install') if l_0_install is missing else l_0_install), (undefined(name='ci') if l_1_ci is missing else l_1_ci), (undefined(name='remote') if l_1_remote is missing else l_1_remote), _loop_vars=_loop_vars))
        yield str(environment.call(context, (undefined(name='dvc_cache') if l_0_dvc_cache is missing else l_0_dvc_cache), (undefined(name='actions') if l_1_actions is missing else l_1_actions), _loop_vars=_loop_vars))
        yield str(environment.call(context, (undefined(name='dvc_pull') if l_0_dvc_pull is missing else l_0_dvc_pull), (undefined(name='remote') if l_1_remote is missing else l_1_remote), _loop_vars=_loop_vars))
        if environment.getattr(l_1_m, 'retrain'):
            pass
            yield str(environment.call(context, (undefined(name='git_identity') if l_0_git_identity is missing else l_0_git_identity), _loop_vars=_loop_vars))
            yield '\n      - name: '
            yield str(t_2(str_join(('Check ', environment.getattr(l_1_m, 'name'), "'s newer data and propose retraining", ))))
            yield '\n        env:\n          MODEL: '
            yield str(t_2(environment.getattr(l_1_m, 'name')))
            yield '\n          GITHUB_TOKEN: '
            yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.token', _loop_vars=_loop_vars))
            yield str(environment.call(context, (undefined(name='remote_env') if l_0_remote_env is missing else l_0_remote_env), (undefined(name='remote') if l_1_remote is missing else l_1_remote), _loop_vars=_loop_vars))
            yield '\n        run: |'
            yield str(environment.call(context, (undefined(name='credentials') if l_0_credentials is missing else l_0_credentials), (undefined(name='remote') if l_1_remote is missing else l_1_remote), _loop_vars=_loop_vars))
            yield '\n          mlopsctl retrain "$MODEL"'
        elif environment.getattr(l_1_m, 'drift_envs'):
            pass
            for l_2_env in environment.getattr(l_1_m, 'drift_envs'):
                _loop_vars = {}
                pass
                yield '\n      - name: '
                yield str(t_2(str_join(('Check ', environment.getattr(l_1_m, 'name'), ' in ', l_2_env, ' for drift', ))))
                yield '\n        env:\n          MODEL: '
                yield str(t_2(environment.getattr(l_1_m, 'name')))
                yield '\n          ENVIRONMENT: '
                yield str(t_2(l_2_env))
                yield '\n        run: |\n          mlopsctl drift "$MODEL" --env "$ENVIRONMENT" --format markdown --fail-on-drift >> "$GITHUB_STEP_SUMMARY"'
            l_2_env = missing
        else:
            pass
            yield '\n      - name: '
            yield str(t_2(str_join(('Check ', environment.getattr(l_1_m, 'name'), ' for drift', ))))
            yield '\n        env:\n          MODEL: '
            yield str(t_2(environment.getattr(l_1_m, 'name')))
            yield str(environment.call(context, (undefined(name='remote_env') if l_0_remote_env is missing else l_0_remote_env), (undefined(name='remote') if l_1_remote is missing else l_1_remote), _loop_vars=_loop_vars))
            yield '\n        run: |'
            yield str(environment.call(context, (undefined(name='credentials') if l_0_credentials is missing else l_0_credentials), (undefined(name='remote') if l_1_remote is missing else l_1_remote), _loop_vars=_loop_vars))
            yield '\n          mlopsctl drift "$MODEL" --fail-on-drift'
        if (not environment.getattr(l_1_loop, 'last')):
            pass
            yield '\n'
    l_1_loop = l_1_m = l_1_ci = l_1_actions = l_1_remote = missing
    yield '\n'

blocks = {}
debug_info = '1=38&11=69&12=73&24=77&25=84&26=86&28=88&29=90&32=92&39=99&40=100&41=101&42=102&43=103&44=104&45=106&46=108&48=110&49=112&50=113&52=115&54=117&55=119&56=123&58=125&59=127&64=133&66=135&67=136&69=138&72=140'
