"""`whip-whep-conformance`: run the conformance suite from anywhere, with the suite's options.

It is pytest with this project's suite and settings pinned, so the options are the same as
`pytest` in the repository (`--endpoint`, `--live-inputs`, `--reports-dir`, …) and the exit codes
are the suite's: 0 no Fail/Error, 1 a Fail or Error, 4 a usage error, 6 target unreachable.
`--help` shows the suite's own options first, `--version` the suite's version. `load` is the load
generator (whip_whep_conformance/load/), `merge` the matrix of runs side by side.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def merge(argv: list[str]) -> int:
    """`whip-whep-conformance merge RESULTS.json... -o matrix.html`: runs side by side."""
    import argparse

    from whip_whep_conformance.reporting.matrix import write_matrix

    parser = argparse.ArgumentParser(prog="whip-whep-conformance merge", description=merge.__doc__)
    parser.add_argument("results", nargs="+", type=Path, help="results.json files of conformance runs")
    parser.add_argument("-o", "--output", type=Path, default=Path("matrix.html"), help="HTML file to write (default matrix.html)")
    args = parser.parse_args(argv)
    try:
        count = write_matrix(args.results, args.output)
    except ValueError as exc:
        print(f"whip-whep-conformance merge: {exc}", file=sys.stderr)
        return 2
    print(f"{args.output}: {count} runs side by side")
    return 0


USAGE = """usage: whip-whep-conformance [options] [CASE ...]
       whip-whep-conformance merge RESULTS.json ... [-o matrix.html]   (runs side by side; merge --help)
       whip-whep-conformance clients [--whip-client=CMD] [--whep-client=CMD] [--manual=whip|whep] [options]
       whip-whep-conformance load [--live-inputs=URL --api-token=T | --endpoint=WHIP --whep-endpoint=WHEP --token=T]
           [--viewers=N|START:STOP:STEP] [--hold-s=S] [--publishers=N] [--codec=C] [--slo-ttff-ms=MS] [--slo-loss-pct=PCT]
           [--slo-latency-ms=MS] [--max-rate=N] [--generators=SPEC,...] [--reports-dir=DIR]   (load --help)

Tests a WHIP (RFC 9725) / WHEP server and writes reports/ (results.json, junit.xml, conformance.html).
No target option: the embedded reference server is tested. CASE: a node id under the suite
(whip/test_4_2_ingest_session_setup.py::test_offer_is_answered_201_created). Write options with
values as --option=value. Exit codes: 0 no Fail or Error, 1 a Fail or Error, 4 usage error,
6 the target is unreachable or cannot be tested (the reason is printed and in results.json).
`clients` grades a WHIP/WHEP client instead: per scenario the embedded server misbehaves on purpose,
the command runs with {url} and {token} filled in, and the client rows are graded (no client option:
the project's own aiortc client). Same reports, profile options, --timeout-s, --requirement, --level.
`load` measures how many viewers the target holds: a ramp of cheap WHEP viewers (a sample decoding for
glass-to-glass latency) over execnet generator processes, per step loss, set-up and first-frame times and
latency, the knee, into results.json (its load section) and conformance.html; exit 1 when an SLO is missed,
4 usage error, 6 unreachable (load --help).
"""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    from whip_whep_conformance import __version__

    try:
        suite = installed("whip-whep-conformance")
    except PackageNotFoundError:
        suite = __version__
    return f"whip-whep-conformance {suite} (pytest {pytest.__version__})"


def suite_help() -> str:
    """The usage, then the suite's own options (those of plugin.options.pytest_addoption), as argparse lays them out."""
    import argparse

    from whip_whep_conformance.plugin.options import pytest_addoption as declare_options

    class Options:
        def __init__(self) -> None:
            self.parser = argparse.ArgumentParser(prog="whip-whep-conformance", add_help=False, usage=argparse.SUPPRESS)
            self.group = self.parser.add_argument_group("the suite's options")

        def getgroup(self, *_args, **_kwargs) -> "Options":
            return self

        def addoption(self, *names: str, **attrs) -> None:
            attrs.pop("default", None)
            self.group.add_argument(*names, **attrs)

    options = Options()
    declare_options(options)  # type: ignore[arg-type]
    return USAGE + "\n" + options.parser.format_help()


class _SuggestOptions:
    """Adds "did you mean --endpoint?" to pytest's "unrecognized arguments" usage error."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_cmdline_parse(self, pluginmanager, args):
        outcome = yield
        exc = outcome.exception
        if isinstance(exc, pytest.UsageError) and exc.args:
            from whip_whep_conformance.harness.usage import did_you_mean

            config = pluginmanager.get_plugin("pytestconfig")
            parser = getattr(getattr(config, "_parser", None), "optparser", None)
            known = list(getattr(parser, "_option_string_actions", {}))
            if known:
                outcome.force_exception(pytest.UsageError(did_you_mean(str(exc.args[0]), known), *exc.args[1:]))


# pytest's own options that take their value as the next argument (the common ones)
PYTEST_VALUE_OPTIONS = frozenset({"-k", "-m", "-p", "-o", "-W", "-c", "-n", "--deselect", "--ignore", "--rootdir",
                                  "--basetemp", "--junitxml", "--tb", "--maxfail", "--durations", "--override-ini"})


def _options_taking_values() -> frozenset[str]:
    """The suite's options that take a value, as its plugin declares them, and pytest's common ones."""
    from whip_whep_conformance.plugin.options import pytest_addoption as declare_options

    names: set[str] = set()

    class _Declared:
        def getgroup(self, *args, **kwargs) -> "_Declared":
            return self

        def addoption(self, *option_names: str, **attrs) -> None:
            if attrs.get("action") not in ("store_true", "store_false", "count"):
                names.update(option_names)

    declare_options(_Declared())  # type: ignore[arg-type]
    return frozenset(names) | PYTEST_VALUE_OPTIONS


def _case_path(suite_dir: Path, arg: str) -> str | None:
    """The suite path an argument names (`whip/test_x.py::case`, `suites/whip/…`, or a path that exists
    from here and lies in the suite), or None when it names none (an option's value, say)."""
    file, sep, rest = arg.partition("::")
    candidates = [suite_dir / file, suite_dir.parent / file, Path(file).resolve()]
    for candidate in candidates:
        if candidate.exists() and (candidate == suite_dir or suite_dir in candidate.resolve().parents):
            return str(candidate.resolve()) + sep + rest
    return None


def main(argv: list[str] | None = None) -> int:
    from importlib.util import find_spec

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["merge"]:
        return merge(args[1:])
    if args[:1] == ["load"]:
        from whip_whep_conformance.load.run import main as load

        return load(args[1:])
    clients = args[:1] == ["clients"]
    if clients:
        args = args[1:]
    before_dashes = args[:args.index("--")] if "--" in args else args
    if "--version" in before_dashes or "-V" in before_dashes:
        print(version())
        return 0
    if "--help" in before_dashes or "-h" in before_dashes:
        print(suite_help())
        print("pytest's own options (-k, -x, -v, … work too) follow.\n", flush=True)
    # located, not imported, so that pytest can still rewrite the suite's asserts
    suite_dir = Path(next(iter(find_spec("whip_whep_conformance.suites").submodule_search_locations))).resolve()
    cases_dir = suite_dir / "clients" if clients else suite_dir
    ini = Path(__file__).resolve().parent / "suite.ini"
    # Select cases by node id relative to the suite (`whip/test_4_2_...py::test_x`) or by -k.
    # `suites/whip/…` (as the repository spells it) and a path from the working directory select too.
    # An option's value (`-k whip`, `--reports-dir brief`) is never a path, whatever folder it names.
    takes_value = _options_taking_values()
    located: dict[int, str] = {}
    for i, arg in enumerate(args):
        if arg.startswith("-") or (i and args[i - 1] in takes_value):
            continue
        if (path := _case_path(cases_dir, arg) or (_case_path(suite_dir, arg) if clients else None)) is not None:
            if clients and not Path(path.split("::")[0]).is_relative_to(cases_dir):
                print(f"whip-whep-conformance clients: {arg} is a server case; `clients` runs the client cases "
                      "(suites/clients/…): run it without `clients`", file=sys.stderr)
                return 4
            located[i] = path
    options = [a for i, a in enumerate(args) if i not in located]
    paths = list(located.values()) or [str(cases_dir)]
    # this module's own package is imported by the time pytest starts: its asserts need no rewriting
    quiet = ["-W", "ignore:Module already imported so cannot be rewritten; whip_whep_conformance:pytest.PytestAssertRewriteWarning"]
    return int(pytest.main(["-c", str(ini), f"--rootdir={suite_dir.parent}", "-p", "no:cacheprovider", *quiet, *options, *paths],
                           plugins=[_SuggestOptions()]))


if __name__ == "__main__":
    sys.exit(main())
