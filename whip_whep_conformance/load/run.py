"""`whip-whep-conformance load`: the options, the run (target, generators, ramp, cleanup) and its exit code."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
import time
from pathlib import Path

from whip_whep_conformance.harness.leftovers import LEFTOVERS
from whip_whep_conformance.harness.player import VIDEO_CODECS
from whip_whep_conformance.harness.target import is_loopback
from whip_whep_conformance.harness.usage import OptionError, did_you_mean, target_mode
from whip_whep_conformance.load.generator import boot_id, cpu_seconds
from whip_whep_conformance.load.generators import GeneratorError, Generators, default_specs
from whip_whep_conformance.load.ramp import Slos, StepFigures, console_line, knee, parse_viewers
from whip_whep_conformance.load.report import write_reports
from whip_whep_conformance.load.target import LoadTarget, Unreachable
from whip_whep_conformance.webrtc import peer

EXIT_OK, EXIT_SLO_MISSED, EXIT_INTERRUPTED, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_UNREACHABLE = 0, 1, 2, 4, 5, 6
EXIT_GENERATOR = 7  # the load tool's own failure (a generator did not start or stopped answering), not the target's

USAGE = """whip-whep-conformance load [--live-inputs=URL --api-token=T | --endpoint=WHIP --whep-endpoint=WHEP --token=T]
       [--viewers=N|START:STOP:STEP] [--hold-s=S] [--publishers=N] [--codec=vp8|vp9|h264]
       [--slo-ttff-ms=MS] [--slo-loss-pct=PCT] [--slo-latency-ms=MS] [--max-rate=POSTS_PER_S]
       [--generators=SPEC,SPEC,...] [--reports-dir=DIR]"""

DESCRIPTION = """How many WHEP viewers a server holds, at what loss, time to first frame and latency.

One stamped publisher per live input (--publishers; one on a fixed --endpoint); viewers join step by step
(--viewers, they accumulate), at most --max-rate POSTs a second, and each step is held --hold-s seconds and
measured: viewers asked / connected / refused (by status), set-up time (POST to its answer) and time to first
frame (a complete keyframe) p50/p95 of the step's joiners, packet loss p50/p95/max over every viewer, glass-to-glass
latency p50/p95 of the decoding sample (1 viewer in --decode-every), and each generator's CPU (a step where a
generator process used most of a core is marked "generator saturated": its figures are the generator's limit).
A step that breaks an SLO ends the ramp. The knee is the most viewers a step held with loss p95 < 1% and TTFF p95 < 1 s.
No target option: the embedded reference server. Everything created is deleted at the end, also on Ctrl-C.

--generators takes execnet gateway specs: `popen` (a local process), `ssh=user@host//python=/path/bin/python`,
`socket=HOST:PORT` (a machine running `python -m execnet.script.socketserver HOST:PORT`); the default is one
local process per core. Each needs whip-whep-conformance installed in that Python.

Writes DIR/results.json (a `load` section) and DIR/conformance.html (plots). Exit codes: 0 done (every SLO met),
1 the target missed an SLO, 2 interrupted (Ctrl-C; reports written, everything deleted), 4 usage error,
5 inconclusive (an SLO broke on a step where a generator was saturated or the publisher slowed, or
--slo-latency-ms was given and no viewer decodes: no generator on the publisher's machine), 6 the target is unreachable or cannot
be load-tested, 7 a load generator could not be started or stopped answering (the load tool's failure)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit 2: a usage error is exit 4 here, as in the suite
        raise OptionError(did_you_mean(message, list(self._option_string_actions)))


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="whip-whep-conformance load", usage=USAGE, description=DESCRIPTION, allow_abbrev=False,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_argument_group("target (none: the embedded reference server)")
    target.add_argument("--live-inputs", metavar="URL", help="a Cloudflare-shaped live inputs collection URL")
    target.add_argument("--api-token", metavar="T", help="Bearer token of the live inputs API")
    target.add_argument("--endpoint", metavar="URL", help="a fixed WHIP endpoint (one publisher)")
    target.add_argument("--whep-endpoint", metavar="URL", help="a fixed WHEP endpoint (alone: plays what is live)")
    target.add_argument("--token", metavar="T", help="Bearer token of the WHIP/WHEP requests")
    ramp = p.add_argument_group("ramp")
    ramp.add_argument("--viewers", default="10", metavar="N|START:STOP:STEP", help="viewers, or a ramp of them (default 10)")
    ramp.add_argument("--hold-s", type=float, default=10.0, metavar="S", help="seconds each step is held and measured (default 10)")
    ramp.add_argument("--publishers", type=int, default=1, metavar="N", help="live inputs, one publisher each (default 1)")
    ramp.add_argument("--codec", default="vp8", choices=sorted(VIDEO_CODECS), help="the publishers' video codec (default vp8)")
    ramp.add_argument("--max-rate", type=float, default=20.0, metavar="POSTS_PER_S", help="viewer POSTs per second, all generators (default 20)")
    ramp.add_argument("--decode-every", type=int, default=20, metavar="N", help="1 viewer in N decodes for latency (at least 1; default 20)")
    ramp.add_argument("--timeout-s", type=float, default=10.0, metavar="S", help="deadline of each request and of each viewer's ICE/DTLS (default 10)")
    slo = p.add_argument_group("SLOs (a step that breaks one ends the ramp; exit 1)")
    slo.add_argument("--slo-ttff-ms", type=float, metavar="MS", help="time to first frame p95 of a step's joiners")
    slo.add_argument("--slo-loss-pct", type=float, metavar="PCT", help="packet loss p95 over the viewers")
    slo.add_argument("--slo-latency-ms", type=float, metavar="MS", help="glass-to-glass latency p95 of the decoding sample")
    where = p.add_argument_group("generators and reports")
    where.add_argument("--generators", metavar="SPEC,SPEC", help="execnet gateway specs (default: one popen process per core)")
    where.add_argument("--ice-host", action="append", metavar="ADDR",
                       help="host candidates only on ADDR (repeatable; default 127.0.0.1 for a loopback target, else every interface)")
    where.add_argument("--reports-dir", type=Path, default=Path("reports"), help="where results.json and conformance.html go (default reports)")
    return p


def parse(argv: list[str]) -> argparse.Namespace:
    """The options, checked before anything is sent; OptionError (exit 4) names the one that is wrong."""
    options = parser().parse_args(argv)
    mode = target_mode(lambda name: getattr(options, name, None))
    if not mode.embedded and not mode.whep:
        raise OptionError("--endpoint alone: give --whep-endpoint too (the viewers play there)")
    try:
        options.steps = parse_viewers(options.viewers)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    for name in ("hold_s", "max_rate", "timeout_s"):
        if getattr(options, name) <= 0:
            raise OptionError(f"--{name.replace('_', '-')} must be positive")
    if options.decode_every < 1:
        raise OptionError("--decode-every must be at least 1")
    if options.publishers < 1:
        raise OptionError("--publishers must be at least 1")
    if options.endpoint and options.publishers != 1:
        raise OptionError("--publishers: a fixed --endpoint takes one publisher (use --live-inputs for more)")
    options.specs = [s.strip() for s in options.generators.split(",") if s.strip()] if options.generators else default_specs()
    if not options.specs:
        raise OptionError("--generators: give at least one execnet gateway spec (popen, ssh=HOST, socket=HOST:PORT)")
    if options.ice_host is None:
        url = options.live_inputs or options.endpoint or options.whep_endpoint
        options.ice_host = ["127.0.0.1"] if url is None or is_loopback(url) else []
    try:
        peer.restrict_host_addresses(options.ice_host or None)
    except ValueError:
        raise OptionError(f"--ice-host: not an IP address: {options.ice_host}") from None
    return options


def main(argv: list[str]) -> int:
    try:
        options = parse(argv)
    except OptionError as exc:
        print(f"whip-whep-conformance load: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(Run(options).run())
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM (Run.run)
        print("whip-whep-conformance load: interrupted (the reports hold the steps measured so far)", file=sys.stderr)
        return EXIT_INTERRUPTED


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Run:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.slos = Slos(options.slo_ttff_ms, options.slo_loss_pct, options.slo_latency_ms)
        self.target = LoadTarget(live_inputs=options.live_inputs, api_token=options.api_token, endpoint=options.endpoint,
                                 whep_endpoint=options.whep_endpoint, token=options.token, publishers=options.publishers,
                                 codec=options.codec, ice_servers=[], timeout_s=options.timeout_s)
        self.generators = Generators(options.specs)
        self.steps: list[dict] = []
        self.final: list[dict] = []  # each viewer's counts after its DELETE
        self.ended_by = ""  # why the ramp stopped before its last step
        self.failed: str | None = None  # "generator": the run failed on a load generator, not on the target
        self.sessions: dict[str, int] = {}  # viewer session URLs registered with the leftovers -> generator

    def say(self, text: str) -> None:
        print(self.target.redact(text), flush=True)

    async def run(self) -> int:
        started, clock = _now(), time.monotonic()
        # SIGTERM (a CI job cancelled, `kill`) cleans up as Ctrl-C does: the run is cancelled, its finally deletes
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
        code, error = EXIT_OK, None
        try:
            code = await self._ramp()
        except Unreachable as exc:
            code, error = EXIT_UNREACHABLE, self.target.redact(str(exc))
            print(f"whip-whep-conformance load: {error}", file=sys.stderr)
        except GeneratorError as exc:
            code, error, self.failed = EXIT_GENERATOR, str(exc), "generator"
            print(f"whip-whep-conformance load: {error}", file=sys.stderr)
        except asyncio.CancelledError:
            code, self.ended_by = EXIT_INTERRUPTED, "interrupted (Ctrl-C)"
            raise
        finally:
            # a second SIGTERM during the cleanup must not cancel it mid-DELETE
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: None)
            left = await self._cleanup()
            if left:
                self.say(f"could not delete {len(left)}: {', '.join(left[:5])}")
            path = write_reports(self.options.reports_dir, load=self._section(left), started=started, finished=_now(),
                                 duration_s=time.monotonic() - clock, exit_code=code, error=error,
                                 target={"label": self.target.describe(), "whip_profile": self.target.target.whip_profile,
                                         "whep_profile": self.target.target.whep_profile})
            self.say(f"reports: {path} and {path.with_name('conformance.html')}")
        return code

    async def _ramp(self) -> int:
        options = self.options
        self.say(f"load: {self.target.describe()}: viewers {options.viewers}, hold {options.hold_s:g} s, "
                 f"{options.publishers} publisher(s) {options.codec}, at most {options.max_rate:g} POSTs/s, "
                 f"{len(options.specs)} generator(s)")
        play_urls = await self.target.setup()
        if self.target.embedded:
            self.say(f"embedded reference server at {self.target.server.base_url}")
        settings = {"token": self.target.target.token, "timeout_s": options.timeout_s, "ice_hosts": options.ice_host,
                    "verify": self.target.target.verify}
        info = await self.generators.open(settings)
        self.say("generators: " + "; ".join(f"{spec} (pid {i['pid']} on {i['host']})" for spec, i in zip(options.specs, info)))
        count = len(self.generators)
        # the stamps carry the publisher's CLOCK_MONOTONIC: only a generator on this machine can read latency
        local = {g for g, i in enumerate(info) if i.get("boot_id") == boot_id()}
        total = 0
        for number, asked in enumerate(options.steps, 1):
            shares: list[list] = [[] for _ in range(count)]
            for index in range(total, asked):
                decoding = index % count in local and (index // count) % options.decode_every == 0  # the sample
                shares[index % count].append((index, number, play_urls[index % len(play_urls)], decoding))
            step_from = (time.monotonic(), cpu_seconds())
            rate = options.max_rate / count
            deadline = (asked - total) / options.max_rate + 2 * options.timeout_s + 30
            added = await self.generators.ask([("add", {"viewers": share, "rate": rate}) for share in shares], deadline)
            for g, reply in enumerate(added):
                for record in reply["added"]:
                    if record["session_url"]:
                        self._register(record, g)
            total = asked
            up = sum(1 for reply in added for r in reply["added"] if r["state"] == "connected")
            self.say(f"step {number}: {asked - sum(len(s) for s in shares)} + {sum(len(s) for s in shares)} viewers, "
                     f"{up} of the new connected; holding {options.hold_s:g} s")
            await self.generators.ask_all(("window",), options.timeout_s + 30)
            sent_from, hold_from = await self.target.packets_sent(), time.monotonic()
            await asyncio.sleep(options.hold_s)  # the step's measurement window
            reports = await self.generators.ask_all(("report",), options.timeout_s + 30)
            pps = (await self.target.packets_sent() - sent_from) / max(time.monotonic() - hold_from, 1e-6)
            baseline = self.steps[0]["publisher_packets_per_s"] if self.steps else None
            figures = StepFigures(number, asked, [r for reply in reports for r in reply["viewers"]],
                                  [reply["cpu"] for reply in reports],
                                  sum(reply["window_s"] for reply in reports) / len(reports),
                                  join_cpu=[reply["cpu"] for reply in added],
                                  master_cpu=(cpu_seconds() - step_from[1]) / max(time.monotonic() - step_from[0], 1e-6),
                                  publisher_packets_per_s=pps if self.target.publications else None,
                                  publisher_baseline=baseline).figures()
            self.steps.append(figures)
            self.say(console_line(figures))
            broken = self.slos.broken(figures)
            if broken:
                self.ended_by = f"step {number} ({asked} viewers) broke an SLO: {'; '.join(broken)}"
                if figures["generator_saturated"] or figures["publisher_slowed"]:
                    why = ("a generator was saturated (add generators: --generators)" if figures["generator_saturated"]
                           else "the publisher slowed (the master's CPU or its packets/s)")
                    self.say(f"ramp ended, inconclusive: {self.ended_by}, but {why}")
                    return EXIT_INCONCLUSIVE
                self.say(f"ramp ended: {self.ended_by}")
                return EXIT_SLO_MISSED
            unmeasured = self.slos.unmeasured(figures)
            if unmeasured:
                self.ended_by = f"step {number} ({asked} viewers) could not check an SLO: {'; '.join(unmeasured)}"
                self.say(f"ramp ended, inconclusive: {self.ended_by}")
                return EXIT_INCONCLUSIVE
        found = knee(self.steps)
        self.say(f"knee: {found if found is not None else 'none'} viewers "
                 f"(the most a step held with loss p95 < 1% and TTFF p95 < 1 s)")
        return EXIT_OK

    def _register(self, record: dict, generator: int) -> None:
        """A viewer session a generator made: registered with the leftovers until the generator has deleted it."""
        token = self.target.target.token
        LEFTOVERS.add(record["session_url"], {"Authorization": f"Bearer {token}"} if token else {})
        self.sessions[record["session_url"]] = generator

    async def _cleanup(self) -> list[str]:
        """Stop the generators (each DELETEs its viewers), then the publishers and the live inputs. Every
        session a stop reply lists as undeleted is registered (also one whose "add" reply never came), so
        the sweep retries it and the report lists it; the gateways close only after the stop replies."""
        replies = await self.generators.ask_each(("stop",), 2 * self.options.timeout_s + 60) if len(self.generators) else []
        for g, reply in enumerate(replies):
            if isinstance(reply, BaseException):
                self.say(f"generator {self.options.specs[g]} did not stop: {reply}; its sessions are swept")
                continue
            undeleted = set(reply.get("undeleted", []))
            for url in undeleted:
                self._register({"session_url": url}, g)
            for record in reply.get("viewers", []):
                self.final.append({"generator": g, "session": record["session"], "status": record["status"],
                                   "packets": record["packets"], "step": record["step"],
                                   "setup_ms": record["setup_ms"], "ttff_ms": record["ttff_ms"],
                                   "decoding": record["decoding"], "state": record["state"]})
                if record["session_url"] and record["session_url"] not in undeleted:
                    LEFTOVERS.discard(record["session_url"])
        await asyncio.to_thread(self.generators.close)  # also a gateway whose remote_exec failed
        return await self.target.teardown()

    def _section(self, left: list[str]) -> dict:
        options = self.options
        return {
            "target": self.target.describe(),
            "options": {"viewers": options.viewers, "steps": options.steps, "hold_s": options.hold_s,
                        "publishers": options.publishers, "codec": options.codec, "max_rate": options.max_rate,
                        "decode_every": options.decode_every, "generators": options.specs},
            "slo": {"ttff_ms": self.slos.ttff_ms, "loss_pct": self.slos.loss_pct, "latency_ms": self.slos.latency_ms},
            "generators": self.generators.info,
            "steps": self.steps,
            "knee": knee(self.steps),
            "ended_by": self.ended_by or None,
            "failed": self.failed,
            "viewers": self.final,
            "undeleted": [self.target.redact(u) for u in left],
        }
