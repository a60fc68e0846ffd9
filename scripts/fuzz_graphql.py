"""Fuzz /graphql/ with schemathesis, as a partner system's write key, against a real server.

    .venv/bin/python scripts/fuzz_graphql.py [--examples 50] [--seed 20261130] [--timeout 1800]

What it does, each step bounded in time, cleaning up after itself (also on Ctrl-C):

1. A database for the run: a PostgreSQL database (default ``huiliu_fuzz_run`` on the local
   server; created, and dropped at the end unless ``--keep``; its name must contain "fuzz",
   since it is dropped) or, with ``--database-url sqlite:///``, a temporary SQLite file.
2. ``migrate``, then a small realistic market: ``load_demo --generated 10`` (the seed-article
   brands with their channels, a few generated ones, a swap history, a trained matcher,
   proposals in every state between demo brands), and a read+write API key for
   ``luckin-coffee``, a brand that is party to several proposals.
3. ``manage.py runserver --noreload`` on 127.0.0.1 only, as in production (DEBUG off, a
   random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, no SSL redirect), throttles raised so the
   fuzzer is not turned away with 429s. No ``REDIS_URL``: local-memory cache and eager
   Celery, so the tasks a mutation schedules run inside the request and their failures show.
4. ``schemathesis run`` against ``http://127.0.0.1:<port>/graphql/`` with the key in the
   ``Authorization`` header, a fixed seed, ``--examples`` test cases per operation (every
   query and mutation of the schema, read by introspection) and a dictionary of the market's
   real IDs and slugs, so a good share of the cases reach past "not found" into the services.
   The check is ``huiliu_no_server_error`` (scripts/fuzz_graphql_hooks.py): no status ≥ 500,
   no ``internal_error``, no resolver breaking the schema. Schemathesis' other default checks
   run too, except the two that read this API's deliberate refusals as failures.
5. Stops the server, then counts, from the hooks' tally of every response and from the server
   log: responses with status ≥ 500, responses with ``internal_error``, and log lines of
   ``unexpected error in GraphQL request`` / ``internal_error`` / ``Internal Server Error``.

Prints the counts and exits 1 if any is above 0 (or schemathesis failed), 0 otherwise. The
schemathesis output and the server log are kept in ``--out`` (default test-output/fuzz/).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/huiliu_fuzz_run"
KEY_BRAND = "luckin-coffee"
KEY_OWNER = "owner@huiliu.demo"
# Schemathesis' own checks that read deliberate refusals as failures: `not_a_server_error`
# counts any GraphQL error with a `path` as a server error (here: not_found, invalid …, which
# the API means to give), `positive_data_acceptance` any refusal of a schema-valid query (a
# random ID is schema-valid and rightly refused).
EXCLUDED_CHECKS = "not_a_server_error,positive_data_acceptance"
ACCESS_5XX = re.compile(r'HTTP/[0-9.]+" 5[0-9][0-9] ')  # runserver's access log line of a 5xx
LOG_MARKERS = ("unexpected error in GraphQL request", "internal_error", "Internal Server Error")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.command == "_seed":  # internal: runs inside the run's environment
        return _seed(Path(args.seed_out))
    return Run(args).run()


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "_seed"], help=argparse.SUPPRESS)
    parser.add_argument("seed_out", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--examples", type=int, default=50, help="test cases per operation (default 50)")
    parser.add_argument("--seed", type=int, default=20261130, help="schemathesis/Hypothesis seed (default 20261130)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds the fuzzing may take (default 1800)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FUZZ_DATABASE_URL", DEFAULT_DATABASE_URL),
        help=f"PostgreSQL database to create and drop (name must contain 'fuzz'), or sqlite:/// "
        f"(default $FUZZ_DATABASE_URL or {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument("--out", default=str(ROOT / "test-output" / "fuzz"), help="where the logs are kept")
    parser.add_argument("--workers", type=int, default=1, help="schemathesis workers (default 1: reproducible)")
    return parser.parse_args(argv)


class Run:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="huiliu-fuzz-"))
        self.out = Path(args.out).resolve()  # schemathesis runs in a temporary directory
        self.out.mkdir(parents=True, exist_ok=True)
        self.server: subprocess.Popen | None = None
        self.db_created: str | None = None
        self.env = self._environment()

    # --- environment and database --------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "THROTTLE_"))}
        url = self.args.database_url
        if url.startswith("sqlite"):
            url = f"sqlite:///{self.tmp / 'fuzz.sqlite3'}"
        else:
            name = urlsplit(url).path.lstrip("/")
            if "fuzz" not in name:
                raise SystemExit(f"refusing to drop and re-create {name!r}: the database name must contain 'fuzz'")
        limit = "100000/m"
        env.update(
            DATABASE_URL=url,
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            MEDIA_ROOT=str(self.tmp / "media"),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            THROTTLE_SIGNUP=limit,
            THROTTLE_BRAND_REGISTER=limit,
            THROTTLE_GRAPHQL_ANONYMOUS=limit,
            API_KEY_RATE_PER_MINUTE="100000",
            API_KEY_BURST="100000",
            EXCHANGE_DAILY_PROPOSAL_LIMIT="100000",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _psql_admin(self, sql: str) -> None:
        """Run one statement on the server's `postgres` database (psycopg, autocommit)."""
        import psycopg

        parts = urlsplit(self.args.database_url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def _create_database(self) -> None:
        if self.env["DATABASE_URL"].startswith("sqlite"):
            return
        name = urlsplit(self.args.database_url).path.lstrip("/")
        self._psql_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._psql_admin(f'CREATE DATABASE "{name}"')
        self.db_created = name

    def _drop_database(self) -> None:
        if self.db_created and not self.args.keep:
            try:
                self._psql_admin(f'DROP DATABASE IF EXISTS "{self.db_created}" WITH (FORCE)')
            except Exception as exc:  # cleanup must not hide the result
                print(f"fuzz: could not drop {self.db_created}: {exc}", file=sys.stderr)

    def _manage(self, *argv: str, timeout: int = 300) -> None:
        step = " ".join(argv)
        t0 = time.monotonic()
        done = subprocess.run(
            [PYTHON, "manage.py", *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"fuzz: `manage.py {step}` failed")
        print(f"fuzz: manage.py {step} ({time.monotonic() - t0:.1f}s)")

    # --- server --------------------------------------------------------------------------
    def _start_server(self) -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.log_path = self.out / "server.log"
        log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in _stop_server
        self._log = log
        self.server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one below
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"fuzz: the server exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        print(f"fuzz: server on 127.0.0.1:{port} (pid {self.server.pid})")
                        return port
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise SystemExit("fuzz: the server did not answer /healthz within 60 s")

    def _stop_server(self) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=15)
            except ProcessLookupError:
                pass
        self._log.close()
        self.server = None

    # --- fuzzing -------------------------------------------------------------------------
    def _config(self, market: dict) -> Path:
        """schemathesis.toml with the market's dictionaries (``market_dictionaries``)."""
        config = schemathesis_config(market)
        lines = []
        for name, entry in config["dictionaries"].items():
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(entry['values'], ensure_ascii=False)}"]
        lines.append("[parameters]")
        for path, binding in config["parameters"].items():
            lines.append(
                f'"{path}" = {{ dictionary = "{binding["dictionary"]}", probability = {binding["probability"]} }}'
            )
        path = self.tmp / "schemathesis.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _fuzz(self, port: int, key: str, config: Path) -> int:
        self.tally_path = self.out / "responses.jsonl"
        self.tally_path.unlink(missing_ok=True)
        env = {
            **self.env,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SCRIPTS), self.env.get("PYTHONPATH")])),
            "SCHEMATHESIS_HOOKS": "fuzz_graphql_hooks",
            "FUZZ_TALLY": str(self.tally_path),
        }
        command = [
            str(Path(PYTHON).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"http://127.0.0.1:{port}/graphql/",
            "--header",
            f"Authorization: Bearer {key}",
            "--seed",
            str(self.args.seed),
            "--max-examples",
            str(self.args.examples),
            "--workers",
            str(self.args.workers),
            "--generation-database",
            "none",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--request-timeout",
            "30",
            "--no-color",
        ]
        if not Path(command[0]).exists():
            raise SystemExit("fuzz: schemathesis is not installed: pip install -r requirements-dev.txt")
        shown = ["schemathesis", *command[1:]]
        shown[shown.index(f"Authorization: Bearer {key}")] = "Authorization: Bearer <write key>"
        print(f"fuzz: {shlex.join(shown)}")
        self.st_log = self.out / "schemathesis.txt"
        with open(self.st_log, "w", encoding="utf-8") as out:
            try:
                done = subprocess.run(
                    command, cwd=self.tmp, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=self.args.timeout
                )
            except subprocess.TimeoutExpired:
                print(f"fuzz: schemathesis did not finish within {self.args.timeout} s", file=sys.stderr)
                return -1
        return done.returncode

    # --- the run -------------------------------------------------------------------------
    def run(self) -> int:
        t0 = time.monotonic()
        # Stopped from outside (a CI timeout): clean up as on Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._create_database()
            self._manage("migrate", "--noinput", "-v0")
            self._manage("load_demo", "--generated", "10")
            seed_out = self.tmp / "market.json"
            done = subprocess.run(
                [PYTHON, __file__, "_seed", str(seed_out)], cwd=ROOT, env=self.env, timeout=120, capture_output=True
            )
            if done.returncode != 0:
                sys.stderr.write(done.stderr.decode())
                raise SystemExit("fuzz: could not create the API key")
            market = json.loads(seed_out.read_text())
            port = self._start_server()
            st_code = self._fuzz(port, market["key"], self._config(market))
            self._stop_server()  # its log complete before it is counted
            return self._report(st_code, time.monotonic() - t0)
        finally:
            self._stop_server()
            self._drop_database()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _report(self, st_code: int, seconds: float) -> int:
        import schemathesis

        rows = (
            [json.loads(line) for line in self.tally_path.read_text().split("\n") if line]
            if self.tally_path.exists()
            else []
        )
        per_op = collections.Counter(r["operation"] for r in rows)
        statuses = collections.Counter(r["status"] for r in rows)
        server_errors = sum(1 for r in rows if r["status"] >= 500)
        internal = sum(1 for r in rows if "internal_error" in r["codes"])
        problems = collections.Counter((r["operation"], r["problem"]) for r in rows if r["problem"])
        log = self.log_path.read_text(errors="replace").splitlines()
        log_lines = [line for line in log if any(m in line for m in LOG_MARKERS)]
        access_5xx = sum(1 for line in log if ACCESS_5XX.search(line))
        fewest = min(per_op.values()) if per_op else 0
        (self.out / "operations.txt").write_text(
            "".join(f"{n:6d}  {op}\n" for op, n in sorted(per_op.items(), key=lambda kv: (kv[1], kv[0]))),
            encoding="utf-8",
        )

        print()
        print(
            f"schemathesis {schemathesis.__version__}, seed {self.args.seed}, {self.args.examples} examples per operation"
        )
        print(f"operations: {len(per_op)} (fewest requests for one operation: {fewest})")
        print(f"requests: {len(rows)} ({', '.join(f'{s}: {n}' for s, n in sorted(statuses.items()))})")
        print(f"responses with status >= 500: {server_errors} (server access log: {access_5xx})")
        print(f"responses with internal_error: {internal}")
        print(f"server log lines with internal errors: {len(log_lines)}")
        for (operation, problem), n in problems.most_common():
            print(f"  {n:4d}  {operation}: {problem}")
        print(f"schemathesis exit code: {st_code}; output in {self.st_log}, server log in {self.log_path}")
        print(f"took {seconds:.0f} s")
        failed = server_errors or access_5xx or internal or log_lines or st_code != 0 or not rows
        print("FUZZ FAILED" if failed else "FUZZ OK: 0 responses >= 500, 0 internal_error")
        return 1 if failed else 0


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def _seed(out: Path) -> int:
    """Inside the run's environment: the write key, and the dictionaries."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiliu.settings")
    import django

    django.setup()
    from partners.actors import Actor
    from partners.models import ApiKeyScope, Brand, User
    from partners.services import api_key_create

    brand = Brand.objects.get(slug=KEY_BRAND)
    owner = User.objects.get(username=KEY_OWNER)
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="fuzz", scopes=list(ApiKeyScope.values))
    out.write_text(json.dumps({"key": raw, **market_dictionaries(brand)}, ensure_ascii=False))
    return 0


def market_dictionaries(brand) -> dict:
    """Schemathesis dictionaries of the market's real IDs (``brand``, the key's own, drawn half
    the time, since only its own brand lets a write key in), slugs, revision numbers, page
    sizes, cursors, category codes and regions, and the bindings of each to the arguments that take it:
    ``{"dictionaries": {name: values}, "bindings": {"Query.channels.brand": name, …}}``.
    Also used by the short fuzz pass of the test suite (tests/api/test_fuzz_short.py)."""
    from graphql_relay import offset_to_cursor, to_global_id

    from exchange.models import ChannelRate, Notification, Placement, Proposal
    from matching.models import MatcherModel, Recommendation, TrainingRun
    from partners.models import ApiKey, Brand, Category, Channel

    def gids(model, type_name, **filters) -> list[str]:
        pks = model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True)[:60]
        return [to_global_id(type_name, pk) for pk in pks]

    brands = gids(Brand, "Brand")
    own = to_global_id("Brand", brand.pk)
    dictionaries = {
        "brands": [own] * len(brands) + brands,
        "proposals": gids(Proposal, "Proposal"),
        "channels": gids(Channel, "Channel", brand=brand) + gids(Channel, "Channel"),
        "placements": gids(Placement, "Placement"),
        "notifications": gids(Notification, "Notification"),
        "api_keys": gids(ApiKey, "ApiKey"),
        "training_runs": gids(TrainingRun, "TrainingRun"),
        "ids": brands
        + gids(Proposal, "Proposal")
        + gids(MatcherModel, "MatcherModel")
        + gids(ChannelRate, "ChannelRate")
        + gids(Recommendation, "Recommendation")[:10],
        "slugs": list(Brand.objects.order_by("pk").values_list("slug", flat=True)),
        "revisions": [1, 2, 3, 4],
        "page_sizes": [1, 2, 10, 100],
        "offsets": [0, 1, 5],
        "cursors": [offset_to_cursor(n) for n in (0, 1, 3, 20)],
        "categories": list(Category.objects.order_by("code").values_list("code", flat=True)[:40]),
        "regions": ["CN-SH", "CN-BJ", "CN-GD", "CN-ZJ"],
    }
    dictionaries = {name: values for name, values in dictionaries.items() if values}
    by_argument = {
        "brand": "brands",
        "counterparty": "brands",
        "partner": "brands",
        "proposal": "proposals",
        "channel": "channels",
        "basedOn": "placements",
        "ids": "notifications",
    }
    by_field_id = {
        "brand": "brands",
        "proposal": "proposals",
        "trainingRun": "training_runs",
        "revokeApiKey": "api_keys",
    }
    bindings = {}
    for path in _id_arguments():
        _root, field, *argument = path.split(".")
        leaf = argument[-1].removesuffix("[*]")
        name = by_argument.get(leaf) or (by_field_id.get(field) if leaf == "id" else None) or "ids"
        bindings[path] = name
    bindings.update(
        {
            "*.*.slug": "slugs",
            "*.*.blockedSlug": "slugs",
            "*.*.revision": "revisions",
            "*.*.first": "page_sizes",
            "*.*.last": "page_sizes",
            "*.*.offset": "offsets",
            "*.*.after": "cursors",
            "*.*.before": "cursors",
            "*.*.category": "categories",
            "*.*.input.category": "categories",
            "*.*.region": "regions",
        }
    )
    return {
        "dictionaries": dictionaries,
        "bindings": {path: name for path, name in bindings.items() if name in dictionaries},
    }


def schemathesis_config(market: dict) -> dict:
    """The ``[dictionaries]`` and ``[parameters]`` of schemathesis.toml, as a dict (each binding
    drawn 60% of the time; the rest is the fuzzer's own value)."""
    return {
        "dictionaries": {name: {"values": values} for name, values in market["dictionaries"].items()},
        "parameters": {path: {"dictionary": name, "probability": 0.6} for path, name in market["bindings"].items()},
    }


def _id_arguments() -> list[str]:
    """Binding keys (``Mutation.proposeSwap.placements[*].channel``) of every ID argument of a
    root field, also inside input objects and lists."""
    from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull

    from api.schema import schema

    def walk(prefix: str, t, depth: int = 0):
        is_list = False
        while isinstance(t, GraphQLNonNull | GraphQLList):
            is_list = is_list or isinstance(t, GraphQLList)
            t = t.of_type
        here = prefix + ("[*]" if is_list else "")
        if t.name == "ID":
            yield here
        elif isinstance(t, GraphQLInputObjectType) and depth < 3:
            for name, field in t.fields.items():
                yield from walk(f"{here}.{name}", field.type, depth + 1)

    graphql_schema = schema.graphql_schema
    out = []
    for root in (graphql_schema.query_type, graphql_schema.mutation_type):
        for field_name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                out += walk(f"{root.name}.{field_name}.{arg_name}", arg.type)
    return out


if __name__ == "__main__":
    sys.exit(main())
