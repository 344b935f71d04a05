#!/usr/bin/env python3
"""dagcheck: describe a generated DataSurface DAG file from its syntax tree.

    python3 dagcheck.py FILE...      prints a JSON list, one description per file
    python3 dagcheck.py --serve      reads JSON lines {"files": [{"name", "source"}]}
                                     and answers one JSON line {"results": [...]} each

The file is parsed with ast.parse and never imported or executed, so neither
Airflow nor any provider is needed. The checker is also the guard that no text
of a model ever became code: it rejects (exit status 1, one "dagcheck:
FILE:LINE: reason" line per problem on stderr)

  - a file that does not parse;
  - a module-level statement outside the known set (the imports, the
    BAD_INPUT_EXIT, RECONCILE_DIFFERS_EXIT and PLATFORM_DIR constants, the job_spec function, the
    MergeRunner class and one final `with DAG(...) as dag:` block);
  - an import of anything but the known modules and names;
  - any use of exec, eval, compile, __import__, os, sys, subprocess, importlib,
    builtins, system/popen/spawn*, or any dunder name but __init__ and __file__;
  - a value the generator renders from the model that is not a plain literal
    (a call, a name, an f-string, an operator where a string, number, boolean,
    list or dict is expected), an unknown argument, or a statement in the DAG
    block other than MergeRunner tasks, `dag.doc_md = "..."` and dependencies
    (`a >> b`, `a << b`, `a.set_downstream(b)`, `a.set_upstream(b)`);
  - `doc_md` passed to DAG(): Airflow 2.4 to 2.9.2 renders that argument with
    an unsandboxed Jinja template while parsing the file, so documentation
    from the model must be assigned to dag.doc_md after construction;
  - a MergeRunner class whose template_fields is not the empty tuple (Airflow
    would otherwise render model values through Jinja when the task runs).

Only the Python standard library is used.
"""

import ast
import json
import sys

# Modules and the names each may contribute (no aliases).
ALLOWED_IMPORTS = {
    "__future__": {"annotations"},
    "datetime": {"timedelta"},
    "airflow": {"DAG"},
    "airflow.datasets": {"Dataset"},
    "airflow.hooks.base": {"BaseHook"},
    "airflow.sdk": {"DAG", "Asset", "BaseHook"},
    "airflow.exceptions": {"AirflowFailException", "AirflowSkipException"},
    "airflow.providers.docker.operators.docker": {"DockerOperator"},
    "airflow.providers.cncf.kubernetes.operators.pod": {"KubernetesPodOperator"},
    "airflow.providers.cncf.kubernetes.secret": {"Secret"},
    # A transformer DAG's pods get the run id as V1EnvVar entries.
    "kubernetes.client": {"V1EnvVar"},
}
ALLOWED_PLAIN_IMPORTS = {"pathlib", "pendulum"}

FORBIDDEN_NAMES = {
    "exec", "eval", "compile", "execfile", "breakpoint", "globals", "locals",
    "vars", "setattr", "delattr", "input", "open", "os", "sys", "subprocess",
    "importlib", "builtins", "ctypes", "pickle", "marshal", "shutil", "socket",
}
FORBIDDEN_ATTRIBUTES = {
    "system", "popen", "os", "sys", "subprocess", "importlib", "builtins",
    "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp",
    "execlpe", "fork", "forkpty", "kill", "remove", "unlink", "rmtree",
    "write_text", "write_bytes", "load_module", "exec_module",
}
ALLOWED_DUNDERS = {"__init__", "__file__"}

PLATFORM_DIR_SOURCE = "pathlib.Path(__file__).resolve().parent.parent"
JOB_SPEC_RETURN_SOURCE = '(PLATFORM_DIR / name).read_text(encoding="utf-8")'

DAG_ARGS = {"dag_id", "schedule", "start_date", "catchup", "max_active_runs", "tags", "default_args"}
DAG_REQUIRED = {"dag_id", "schedule", "start_date", "catchup", "max_active_runs"}
COMMON_TASK_ARGS = {"task_id", "image", "pool", "priority_weight", "execution_timeout", "outlets", "secrets", "run_args", "run_dir", "final_exit"}
# The exit-code constants a task's final_exit may name.
EXIT_CONSTANTS = ("BAD_INPUT_EXIT", "RECONCILE_DIFFERS_EXIT")
DOCKER_TASK_ARGS = COMMON_TASK_ARGS | {"command", "environment", "auto_remove", "mount_tmp_dir", "network_mode"}
KUBERNETES_TASK_ARGS = COMMON_TASK_ARGS | {
    "namespace", "name", "cmds", "arguments", "env_vars", "get_logs", "on_finish_action",
}
JOB_SPEC_ENV = "DATASURFACE_JOB_SPEC"


class Reject(Exception):
    """A reason to refuse the file, at a line."""

    def __init__(self, node, message):
        super().__init__(message)
        self.line = getattr(node, "lineno", 0) or 0
        self.message = message


def expr_source(node):
    return ast.unparse(node)


def same_expr(node, source):
    """Whether node is the expression source (compared as syntax trees)."""
    return ast.dump(node) == ast.dump(ast.parse(source, mode="eval").body)


def kind_of(node):
    """A short description of a node for messages."""
    if isinstance(node, ast.Constant):
        return "%s literal" % type(node.value).__name__
    if isinstance(node, ast.Call):
        return "a call to %s" % expr_source(node.func)
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    return "an expression (%s)" % type(node).__name__


def literal(node, typ, what):
    """The value of a plain literal of exactly type typ (bool is not int)."""
    if isinstance(node, ast.Constant) and type(node.value) is typ:
        return ast.literal_eval(node)
    article = "an" if typ.__name__[0] in "aeiou" else "a"
    raise Reject(node, "%s must be %s %s literal, found %s: %s" % (what, article, typ.__name__, kind_of(node), expr_source(node)[:80]))


def string(node, what):
    return literal(node, str, what)


def string_or_none(node, what):
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    return string(node, what)


def string_list(node, what):
    if not isinstance(node, ast.List):
        raise Reject(node, "%s must be a list literal of strings, found %s" % (what, kind_of(node)))
    return [string(e, "%s[%d]" % (what, i)) for i, e in enumerate(node.elts)]


def call_to(node, name):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def plain_call(node, name, what, positional=None, keywords=None):
    """Checks a call name(...) with only the given argument shapes; returns (args, kwargs)."""
    if not call_to(node, name):
        raise Reject(node, "%s must be a call to %s, found %s" % (what, name, kind_of(node)))
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise Reject(node, "%s: *args and **kwargs are not allowed" % what)
    if positional is not None and len(node.args) != positional:
        raise Reject(node, "%s: %s takes %d positional arguments, found %d" % (what, name, positional, len(node.args)))
    kws = {}
    for k in node.keywords:
        if keywords is not None and k.arg not in keywords:
            raise Reject(k.value, "%s: unknown argument %s" % (what, k.arg))
        if k.arg in kws:
            raise Reject(k.value, "%s: argument %s given twice" % (what, k.arg))
        kws[k.arg] = k.value
    return node.args, kws


def timedelta_minutes(node, what):
    _, kws = plain_call(node, "timedelta", what, positional=0, keywords={"days", "hours", "minutes", "seconds"})
    if not kws:
        raise Reject(node, "%s: timedelta() without a duration" % what)
    factor = {"days": 1440, "hours": 60, "minutes": 1, "seconds": 1 / 60}
    total = 0
    for k, v in kws.items():
        total += literal(v, int, "%s %s" % (what, k)) * factor[k]
    return int(total) if total == int(total) else total


class DagFile:
    """One DAG file's checks and description."""

    def __init__(self, name, source):
        self.name = name
        self.source = source
        self.imported = {}  # name -> module
        self.exits = {}  # exit-code constant -> value
        self.airflow_version = None
        self.operator = None
        self.desc = {}

    # -- whole-file guards -------------------------------------------------

    def forbidden(self, tree):
        for node in ast.walk(tree):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                raise Reject(node, "global and nonlocal are not allowed")
            if isinstance(node, ast.Name):
                ident = node.id
                if ident in FORBIDDEN_NAMES:
                    raise Reject(node, "use of %s is not allowed in a generated DAG" % ident)
            elif isinstance(node, ast.Attribute):
                ident = node.attr
                if ident in FORBIDDEN_ATTRIBUTES or ident.startswith("spawn"):
                    raise Reject(node, "use of .%s is not allowed in a generated DAG" % ident)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                ident = node.name
            elif isinstance(node, ast.arg):
                ident = node.arg
            elif isinstance(node, ast.keyword):
                ident = node.arg or ""
            else:
                continue
            if ident.startswith("__") and ident.endswith("__") and ident not in ALLOWED_DUNDERS:
                raise Reject(node, "use of %s is not allowed in a generated DAG" % ident)

    # -- module level --------------------------------------------------------

    def check(self):
        try:
            tree = ast.parse(self.source, filename=self.name)
        except (SyntaxError, ValueError) as err:
            raise Reject(err if isinstance(err, SyntaxError) else None, "does not parse: %s" % err)
        self.forbidden(tree)
        body = tree.body
        if not body or not isinstance(body[-1], ast.With):
            raise Reject(body[-1] if body else None, "the last statement must be the `with DAG(...) as dag:` block")
        seen = set()
        for stmt in body[:-1]:
            if isinstance(stmt, ast.ImportFrom):
                self.import_from(stmt)
            elif isinstance(stmt, ast.Import):
                self.import_plain(stmt)
            elif isinstance(stmt, ast.Assign):
                self.constant(stmt, seen)
            elif isinstance(stmt, ast.FunctionDef) and stmt.name == "job_spec":
                self.once(stmt, "job_spec", seen)
                self.job_spec(stmt)
            elif isinstance(stmt, ast.ClassDef) and stmt.name == "MergeRunner":
                self.once(stmt, "MergeRunner", seen)
                self.merge_runner_class(stmt)
            else:
                raise Reject(stmt, "unexpected module-level statement: %s" % expr_source(stmt).splitlines()[0][:80])
        for required in ("BAD_INPUT_EXIT", "PLATFORM_DIR", "job_spec", "MergeRunner"):
            if required not in seen:
                raise Reject(None, "%s is missing" % required)
        if "DAG" not in self.imported:
            raise Reject(None, "DAG is not imported")
        self.airflow_version = 3 if self.imported["DAG"] == "airflow.sdk" else 2
        self.dag_block(body[-1])
        self.desc = dict(
            file=self.name,
            airflow_version=self.airflow_version,
            operator=self.operator,
            bad_input_exit=self.bad_input_exit,
            template_fields=[],
            **self.desc,
        )
        return self.desc

    def once(self, stmt, name, seen):
        if name in seen:
            raise Reject(stmt, "%s is defined twice" % name)
        seen.add(name)

    def import_from(self, stmt):
        allowed = ALLOWED_IMPORTS.get(stmt.module)
        if stmt.level or allowed is None:
            raise Reject(stmt, "import from %s is not allowed" % ("." * stmt.level + (stmt.module or "")))
        for alias in stmt.names:
            if alias.name not in allowed or alias.asname:
                raise Reject(stmt, "import of %s from %s is not allowed" % (alias.name, stmt.module))
            if alias.name in self.imported and self.imported[alias.name] != stmt.module:
                raise Reject(stmt, "%s is imported from two modules" % alias.name)
            self.imported[alias.name] = stmt.module

    def import_plain(self, stmt):
        for alias in stmt.names:
            if alias.name not in ALLOWED_PLAIN_IMPORTS or alias.asname:
                raise Reject(stmt, "import of %s is not allowed" % alias.name)
            self.imported[alias.name] = alias.name

    def constant(self, stmt, seen):
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            raise Reject(stmt, "unexpected module-level assignment")
        name = stmt.targets[0].id
        if name in EXIT_CONSTANTS:
            self.once(stmt, name, seen)
            self.exits[name] = literal(stmt.value, int, name)
            if name == "BAD_INPUT_EXIT":
                self.bad_input_exit = self.exits[name]
        elif name == "PLATFORM_DIR":
            self.once(stmt, name, seen)
            if not same_expr(stmt.value, PLATFORM_DIR_SOURCE):
                raise Reject(stmt, "PLATFORM_DIR must be %s" % PLATFORM_DIR_SOURCE)
        else:
            raise Reject(stmt, "unexpected module-level assignment to %s" % name)

    def job_spec(self, fn):
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body = body[1:]
        args = fn.args
        ok = (
            not fn.decorator_list and fn.returns is None and len(args.args) == 1 and args.args[0].arg == "name"
            and not (args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or args.defaults)
            and len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None
            and same_expr(body[0].value, JOB_SPEC_RETURN_SOURCE)
        )
        if not ok:
            raise Reject(fn, "job_spec must be `def job_spec(name): return %s`" % JOB_SPEC_RETURN_SOURCE)

    def merge_runner_class(self, cls):
        if cls.decorator_list or cls.keywords or len(cls.bases) != 1 or not isinstance(cls.bases[0], ast.Name):
            raise Reject(cls, "MergeRunner must derive from exactly one operator, without decorators or keywords")
        base = cls.bases[0].id
        self.operator = {"DockerOperator": "docker", "KubernetesPodOperator": "kubernetes"}.get(base)
        if self.operator is None or base not in self.imported:
            raise Reject(cls, "MergeRunner must derive from an imported DockerOperator or KubernetesPodOperator, not %s" % base)
        template_fields = None
        for i, stmt in enumerate(cls.body):
            if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                continue
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == "template_fields":
                if template_fields is not None:
                    raise Reject(stmt, "template_fields is set twice")
                if not (isinstance(stmt.value, ast.Tuple) and not stmt.value.elts):
                    raise Reject(stmt, "MergeRunner.template_fields must be () so that no model value is rendered by Jinja")
                template_fields = ()
            elif isinstance(stmt, ast.FunctionDef) and stmt.name in ("__init__", "execute") and not stmt.decorator_list:
                continue
            else:
                raise Reject(stmt, "unexpected statement in class MergeRunner")
        if template_fields is None:
            raise Reject(cls, "MergeRunner.template_fields = () is missing")

    # -- the DAG block ------------------------------------------------------------

    def dag_block(self, block):
        if len(block.items) != 1:
            raise Reject(block, "the DAG block must open exactly one DAG")
        item = block.items[0]
        if not (isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == "dag"):
            raise Reject(block, "the DAG block must be `with DAG(...) as dag:`")
        _, kws = plain_call(item.context_expr, "DAG", "DAG()", positional=0)
        if "doc_md" in kws:
            raise Reject(kws["doc_md"], "doc_md must not be passed to DAG(): Airflow 2.4-2.9.2 renders it as a Jinja template; assign dag.doc_md instead")
        for k in kws:
            if k not in DAG_ARGS:
                raise Reject(kws[k], "DAG(): unknown argument %s" % k)
        for k in sorted(DAG_REQUIRED - set(kws)):
            raise Reject(item.context_expr, "DAG(): %s is missing" % k)
        d = self.desc
        d["dag_id"] = string(kws["dag_id"], "dag_id")
        if isinstance(kws["schedule"], ast.List):
            # A transformer's DAG runs when an input table's asset changes.
            d["schedule"] = None
            d["schedule_assets"] = self.outlets(kws["schedule"], "schedule")
        else:
            d["schedule"] = string_or_none(kws["schedule"], "schedule")
            d["schedule_assets"] = []
        d["start_date"] = self.start_date(kws["start_date"])
        d["catchup"] = literal(kws["catchup"], bool, "catchup")
        d["max_active_runs"] = literal(kws["max_active_runs"], int, "max_active_runs")
        d["tags"] = string_list(kws["tags"], "tags") if "tags" in kws else []
        d["doc_md"] = None
        d.update(self.default_args(kws.get("default_args")))

        tasks, by_var, edges = [], {}, set()
        for stmt in block.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute):
                t = stmt.targets[0]
                if not (isinstance(t.value, ast.Name) and t.value.id == "dag" and t.attr == "doc_md"):
                    raise Reject(stmt, "unexpected assignment in the DAG block")
                if d["doc_md"] is not None:
                    raise Reject(stmt, "dag.doc_md is assigned twice")
                d["doc_md"] = string(stmt.value, "dag.doc_md")
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and call_to(stmt.value, "MergeRunner"):
                var = stmt.targets[0].id
                if var in by_var or var == "dag":
                    raise Reject(stmt, "task variable %s is assigned twice" % var)
                task = self.task(stmt.value)
                tasks.append(task)
                by_var[var] = task["task_id"]
            elif isinstance(stmt, ast.Expr) and call_to(stmt.value, "MergeRunner"):
                tasks.append(self.task(stmt.value))
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, (ast.BinOp, ast.Call)):
                self.dependency(stmt.value, by_var, edges, tasks)
            else:
                raise Reject(stmt, "unexpected statement in the DAG block: %s" % expr_source(stmt).splitlines()[0][:80])
        ids = [t["task_id"] for t in tasks]
        for i, tid in enumerate(ids):
            if tid in ids[:i]:
                raise Reject(block, "task id %s is used twice" % tid)
        d["tasks"] = tasks
        d["edges"] = sorted([list(e) for e in edges])
        self.acyclic(ids, edges, block)

    def start_date(self, node):
        if not (isinstance(node, ast.Call) and same_expr(node.func, "pendulum.datetime")):
            raise Reject(node, "start_date must be pendulum.datetime(...), found %s" % kind_of(node))
        if any(k.arg != "tz" for k in node.keywords) or len(node.args) != 3:
            raise Reject(node, "start_date must be pendulum.datetime(year, month, day, tz=...)")
        y, m, day = (literal(a, int, "start_date") for a in node.args)
        tz = string(node.keywords[0].value, "start_date tz") if node.keywords else "UTC"
        return "%04d-%02d-%02d %s" % (y, m, day, tz)

    def default_args(self, node):
        out = {"owner": None, "retries": None}
        if node is None:
            return out
        if not isinstance(node, ast.Dict) or any(k is None for k in node.keys):
            raise Reject(node, "default_args must be a dict literal")
        for k, v in zip(node.keys, node.values):
            key = string(k, "default_args key")
            if key == "owner":
                out["owner"] = string(v, "default_args owner")
            elif key in ("retries",):
                out["retries"] = literal(v, int, "default_args retries")
            elif key in ("retry_delay", "max_retry_delay"):
                out[key + "_minutes"] = timedelta_minutes(v, "default_args " + key)
            elif key == "retry_exponential_backoff":
                out[key] = literal(v, bool, "default_args " + key)
            else:
                raise Reject(k, "default_args: unknown key %s" % key)
        return out

    def task(self, call):
        allowed = DOCKER_TASK_ARGS if self.operator == "docker" else KUBERNETES_TASK_ARGS
        _, kws = plain_call(call, "MergeRunner", "MergeRunner()", positional=0, keywords=allowed)
        for k in ("task_id", "image", "pool", "priority_weight", "execution_timeout"):
            if k not in kws:
                raise Reject(call, "MergeRunner(): %s is missing" % k)
        t = {"task_id": string(kws["task_id"], "task_id")}
        what = "task %s" % t["task_id"]
        t["image"] = string(kws["image"], what + " image")
        if self.operator == "docker":
            if "command" not in kws or "environment" not in kws:
                raise Reject(call, what + ": command and environment are required")
            t["command"] = string_list(kws["command"], what + " command")
            env = kws["environment"]
            t["auto_remove"] = string(kws["auto_remove"], what + " auto_remove") if "auto_remove" in kws else None
            t["mount_tmp_dir"] = literal(kws["mount_tmp_dir"], bool, what + " mount_tmp_dir") if "mount_tmp_dir" in kws else None
            t["network_mode"] = string(kws["network_mode"], what + " network_mode") if "network_mode" in kws else None
        else:
            for k in ("cmds", "arguments", "env_vars", "namespace", "name"):
                if k not in kws:
                    raise Reject(call, "%s: %s is required" % (what, k))
            t["cmds"] = string_list(kws["cmds"], what + " cmds")
            t["arguments"] = string_list(kws["arguments"], what + " arguments")
            t["command"] = t["cmds"] + t["arguments"]
            t["namespace"] = string(kws["namespace"], what + " namespace")
            t["pod_name"] = string(kws["name"], what + " name")
            t["get_logs"] = literal(kws["get_logs"], bool, what + " get_logs") if "get_logs" in kws else None
            t["on_finish_action"] = string(kws["on_finish_action"], what + " on_finish_action") if "on_finish_action" in kws else None
            env = kws["env_vars"]
        t["pool"] = string(kws["pool"], what + " pool")
        t["priority_weight"] = literal(kws["priority_weight"], int, what + " priority_weight")
        t["execution_timeout_minutes"] = timedelta_minutes(kws["execution_timeout"], what + " execution_timeout")
        t["env"], t["job_spec"] = self.environment(env, what)
        t["env_keys"] = sorted(list(t["env"]) + ([JOB_SPEC_ENV] if t["job_spec"] is not None else []))
        t["secrets"] = self.secrets(kws.get("secrets"), what)
        t["outlets"] = self.outlets(kws.get("outlets"), what)
        t["run_args"] = literal(kws["run_args"], bool, what + " run_args") if "run_args" in kws else False
        t["run_dir"] = string(kws["run_dir"], what + " run_dir") if "run_dir" in kws else None
        t["final_exit"] = self.final_exit(kws["final_exit"], what) if "final_exit" in kws else None
        return t

    def final_exit(self, node, what):
        """final_exit names an exit-code constant defined above; its value."""
        if not (isinstance(node, ast.Name) and node.id in self.exits):
            raise Reject(node, what + ": final_exit must name one of the exit-code constants defined above (%s)" % ", ".join(EXIT_CONSTANTS))
        return self.exits[node.id]

    def environment(self, node, what):
        if not isinstance(node, ast.Dict) or any(k is None for k in node.keys):
            raise Reject(node, what + ": the environment must be a dict literal")
        env, job = {}, None
        for k, v in zip(node.keys, node.values):
            key = string(k, what + " environment key")
            if key in env or (key == JOB_SPEC_ENV and job is not None):
                raise Reject(k, "%s: environment variable %s is set twice" % (what, key))
            if key == JOB_SPEC_ENV:
                args, _ = plain_call(v, "job_spec", what + " " + JOB_SPEC_ENV, positional=1, keywords=set())
                job = string(args[0], what + " job spec file")
            else:
                env[key] = string(v, "%s environment %s" % (what, key))
        return env, job

    def secrets(self, node, what):
        if node is None:
            return []
        if not isinstance(node, ast.List):
            raise Reject(node, what + ": secrets must be a list literal")
        out = []
        for e in node.elts:
            if self.operator == "docker":
                if not (isinstance(e, ast.Tuple) and len(e.elts) == 3):
                    raise Reject(e, what + ": a secret must be a tuple (variable, connection id, field)")
                env, conn, field = (string(x, what + " secret") for x in e.elts)
                out.append({"env": env, "connection": conn, "field": field})
            else:
                args, _ = plain_call(e, "Secret", what + " secret", positional=4, keywords=set())
                if "Secret" not in self.imported:
                    raise Reject(e, "Secret is not imported")
                deploy, env, secret, key = (string(x, what + " secret") for x in args)
                if deploy != "env":
                    raise Reject(e, what + ": secrets must be deployed as env")
                out.append({"env": env, "secret": secret, "key": key})
        return out

    def outlets(self, node, what):
        if node is None:
            return []
        if not isinstance(node, ast.List):
            raise Reject(node, what + ": outlets must be a list literal")
        out = []
        for e in node.elts:
            if self.airflow_version == 3:
                _, kws = plain_call(e, "Asset", what + " outlet", positional=0, keywords={"name", "uri"})
                if "Asset" not in self.imported:
                    raise Reject(e, "Asset is not imported")
                out.append({"name": string(kws.get("name"), what + " outlet name") if "name" in kws else None,
                            "uri": string(kws["uri"], what + " outlet uri") if "uri" in kws else None})
            else:
                args, _ = plain_call(e, "Dataset", what + " outlet", positional=1, keywords=set())
                if "Dataset" not in self.imported:
                    raise Reject(e, "Dataset is not imported")
                out.append({"name": None, "uri": string(args[0], what + " outlet uri")})
        return out

    # -- dependencies ----------------------------------------------------------------

    def operand(self, node, by_var, tasks):
        if isinstance(node, ast.Name):
            if node.id not in by_var:
                raise Reject(node, "dependency on %s, which is not a task of this DAG" % node.id)
            return [by_var[node.id]]
        if isinstance(node, (ast.List, ast.Tuple)):
            out = []
            for e in node.elts:
                out.extend(self.operand(e, by_var, tasks))
            return out
        if call_to(node, "MergeRunner"):
            t = self.task(node)
            tasks.append(t)
            return [t["task_id"]]
        raise Reject(node, "a dependency operand must be a task, found %s" % kind_of(node))

    def dependency(self, node, by_var, edges, tasks):
        """Records the edges of a >> b, a << b, a.set_downstream(b), a.set_upstream(b); returns the right side."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.RShift, ast.LShift)):
            left = self.dependency(node.left, by_var, edges, tasks)
            right = self.dependency(node.right, by_var, edges, tasks)
            for a in left:
                for b in right:
                    edges.add((a, b) if isinstance(node.op, ast.RShift) else (b, a))
            return right
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("set_downstream", "set_upstream"):
            if node.keywords or len(node.args) != 1:
                raise Reject(node, "%s takes one task or list of tasks" % node.func.attr)
            left = self.operand(node.func.value, by_var, tasks)
            right = self.operand(node.args[0], by_var, tasks)
            for a in left:
                for b in right:
                    edges.add((a, b) if node.func.attr == "set_downstream" else (b, a))
            return right
        return self.operand(node, by_var, tasks)

    def acyclic(self, ids, edges, block):
        down = {i: [] for i in ids}
        for a, b in edges:
            down.setdefault(a, []).append(b)
        state = {}

        def visit(n):
            if state.get(n) == 1:
                raise Reject(block, "the task dependencies form a cycle through %s" % n)
            if state.get(n) == 2:
                return
            state[n] = 1
            for m in down.get(n, []):
                visit(m)
            state[n] = 2

        for n in sorted(down):
            visit(n)


def describe(name, source):
    """The description of one file, or raises Reject."""
    try:
        return DagFile(name, source).check()
    except Reject:
        raise
    except Exception as err:  # a file the checks did not foresee is refused, not described
        raise Reject(None, "cannot check the file: %s: %s" % (type(err).__name__, err)) from err


def message(name, err):
    return "dagcheck: %s:%d: %s" % (name, err.line, err.message)


def serve(inp, out):
    for line in inp:
        if not line.strip():
            continue
        req = json.loads(line)
        results = []
        for f in req["files"]:
            try:
                results.append({"name": f["name"], "ok": True, "dag": describe(f["name"], f["source"])})
            except Reject as err:
                results.append({"name": f["name"], "ok": False, "error": message(f["name"], err)})
        out.write(json.dumps({"results": results}) + "\n")
        out.flush()


def main(argv):
    if len(argv) == 2 and argv[1] == "--serve":
        serve(sys.stdin, sys.stdout)
        return 0
    if len(argv) < 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: dagcheck.py FILE... | dagcheck.py --serve\n")
        return 2
    descs, failed = [], False
    for path in argv[1:]:
        try:
            with open(path, "rb") as fh:
                source = fh.read()
        except OSError as err:
            sys.stderr.write("dagcheck: %s: %s\n" % (path, err))
            failed = True
            continue
        try:
            descs.append(describe(path, source))
        except Reject as err:
            sys.stderr.write(message(path, err) + "\n")
            failed = True
    if failed:
        return 1
    json.dump(descs, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
