"""python3 -m tearline pub|sub|inject: the basics of the `tearline` CLI, in Python.

Options and environment follow the C++ CLI (`tearline publish`, `tearline
subscribe`, `tearline inject`): --pki (TEARLINE_PKI, default certs/demo),
-n/--node (TEARLINE_NODE), -s/--broker (TEARLINE_BROKER, default
tcp://127.0.0.1:7801), --timeout MS, --json (the JSON of proto/tearline/v1/cli.proto).
Exit codes: 0 ok, 1 refused (REJECTED, a case failed), 2 bad input, 3 the
broker is unreachable.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
CLASSIFICATIONS = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # bad usage: one line, exit 2
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _common(p: argparse.ArgumentParser, node: bool = True) -> None:
    p.add_argument("--pki", default=os.environ.get("TEARLINE_PKI", "certs/demo"),
                   help="PKI folder made by `tearline certs` (env TEARLINE_PKI; default certs/demo)")
    if node:
        p.add_argument("-n", "--node", default=os.environ.get("TEARLINE_NODE"),
                       help="node id to act as (env TEARLINE_NODE)")
        p.add_argument("--key", help="node key file (default PKI/keys/nodes/NODE.key)")
    p.add_argument("-s", "--broker", default=os.environ.get("TEARLINE_BROKER", "tcp://127.0.0.1:7801"),
                   help="broker endpoint (env TEARLINE_BROKER; default tcp://127.0.0.1:7801)")
    p.add_argument("--timeout", type=int, default=5000, metavar="MS", help="milliseconds to wait (default 5000)")
    p.add_argument("--json", action="store_true", help="JSON output (proto/tearline/v1/cli.proto)")


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v]


def _fail(code: int, message: str) -> int:
    print(f"tearline: {message}", file=sys.stderr)
    return code


def _open_session(args, **options):
    from .directory import Directory
    from .keys import NodeKeys, load_broker_public
    from .session import Session
    if not args.node:
        raise _Usage("-n/--node (or TEARLINE_NODE) is required")
    pki = Path(args.pki)
    directory = Directory.load(pki / "directory")
    keys = NodeKeys.load(args.key or pki / "keys" / "nodes" / f"{args.node}.key")
    return Session.connect(args.broker, load_broker_public(pki / "directory" / "broker.pub"), args.node, keys,
                           directory, timeout_ms=args.timeout, directory_folder=pki / "directory", **options)


class _Usage(Exception):
    pass


def _reasons_json(reasons) -> list[dict]:
    return [{"code": r.code, "name": r.name, "message": r.message} for r in reasons]


# --- pub -----------------------------------------------------------------------------

def cmd_pub(args) -> int:
    from . import report
    from .policy import Label
    if args.classification not in CLASSIFICATIONS:
        raise _Usage(f"--classification must be one of {', '.join(CLASSIFICATIONS)}")
    if (args.text is None) == (args.body_file is None):
        raise _Usage("give exactly one of --text and --body-file")
    if args.body_file == "-":
        body = sys.stdin.buffer.read()
    elif args.body_file is not None:
        try:
            body = Path(args.body_file).read_bytes()
        except OSError as e:
            raise _Usage(f"--body-file {args.body_file}: {e.strerror}") from None
    else:
        body = args.text.encode()
    label = Label(args.classification, tuple(sorted(set(_split(args.rel)))), tuple(sorted(set(_split(args.unit)))),
                  args.orcon)
    session = _open_session(args)
    try:
        draft = report.Draft(args.topic, [report.Section(label, body)])
        built = report.build_report(draft, args.node, session.keys, session.directory)
        outcome = session.publish(built.data)
    finally:
        session.close()
    if args.json:
        v = {"verdict": "ACCEPTED" if outcome.accepted else "REJECTED", "report_id": outcome.report_id,
             "batch_id": built.batch_id.hex(), "batch_index": 1, "batch_size": 1,
             "sections": [{"index": 1, "recipients": sorted(n for n, _ in built.recipients[0])}]}
        if outcome.accepted:
            v.update(broker_seq=str(outcome.broker_seq), broker_id=outcome.broker_id,
                     accepted_ms=str(outcome.accepted_ms))
        else:
            v.update(code=outcome.name, reasons=_reasons_json(outcome.reasons))
        print(json.dumps(v))
    elif outcome.accepted:
        print(f"ACCEPTED report={outcome.report_id} seq={outcome.broker_seq}")
        print(f"  receipt: accepted by {outcome.broker_id} at {_utc(outcome.accepted_ms)} as seq "
              f"{outcome.broker_seq} (signed, verified)")
        print(f"  section 1 ({label.describe()}): sealed to "
              f"{', '.join(sorted(n for n, _ in built.recipients[0])) or 'no one'}")
    else:
        print(f"REJECTED {outcome.name}")
        for r in outcome.reasons:
            print(f"  {r.name}: {r.message}")
    return EXIT_OK if outcome.accepted else EXIT_REFUSED


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


# --- sub -----------------------------------------------------------------------------

def _print_delivery(d, args) -> None:
    if args.json:
        sections = []
        for s in d.sections:
            item = {"index": s.index + 1, "status": s.status.replace("_", " ")}
            if s.label is not None:
                item["label"] = s.label.describe()
            if s.text is not None:
                item["text"] = s.text
            sections.append(item)
        print(json.dumps({"broker_seq": str(d.broker_seq), "report_id": d.report_id, "originator": d.originator,
                          "topic": d.topic, "created_at_ms": str(d.created_at_ms), "signature": "valid",
                          "sections": sections}), flush=True)
        return
    if args.raw:
        for s in d.sections:
            if s.status == "opened":
                text = s.text
                print(text if text.endswith("\n") else text + "\n", end="", flush=True)
        return
    print(f"report {d.report_id} (broker seq {d.broker_seq})")
    print(f"  from:       {d.originator}")
    print(f"  topic:      {d.topic}")
    for s in d.sections:
        label = f" ({s.label.describe()})" if s.label is not None else ""
        status = s.status.replace("_", " ")
        print(f"  section {s.index + 1}{label}: {status}" +
              (" (only its commitment was delivered)" if s.status == "withheld" else ""))
        if s.status == "opened":
            print("    | " + s.text.replace("\n", "\n    | "))
    print(flush=True)


def _print_refused(refused, args) -> None:
    verdict = "; ".join(f"{r.name} {r.message}" for r in refused.reasons)
    if args.json:
        print(json.dumps({"broker_seq": str(refused.broker_seq), "signature": f"invalid: {verdict}",
                          "sections": []}), flush=True)
    else:
        print(f"report (broker seq {refused.broker_seq}) NOT VERIFIED: {verdict}\n", flush=True)


def cmd_sub(args) -> int:
    from .session import DeliveryRefused
    patterns = args.topic or [">"]
    session = _open_session(args)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        session.subscribe(patterns, session_only=not args.durable)
        print(f"subscribed {', '.join(patterns)} ({'durable' if args.durable else 'this session only'})",
              file=sys.stderr, flush=True)
        count, last = 0, time.monotonic()
        while not stop:
            wait = 500
            if args.idle_exit:
                left = args.idle_exit - (time.monotonic() - last) * 1000
                if left <= 0:
                    return EXIT_OK
                wait = int(min(wait, left)) + 1
            try:
                d = session.receive(wait)
            except DeliveryRefused as refused:  # said, acknowledged, and the next one read
                _print_refused(refused, args)
                continue
            if d is None:
                continue
            last = time.monotonic()
            _print_delivery(d, args)
            count += 1
            if args.count and count >= args.count:
                return EXIT_OK
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        session.close()


# --- inject --------------------------------------------------------------------------

def cmd_inject(args) -> int:
    from .inject import Runner, Unreachable
    from .scenario import ScenarioError, load_scenario
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    serve = {}
    for item in args.serve or []:
        broker, _, endpoint = item.partition("=")
        if not broker or not endpoint:
            raise _Usage(f"--serve {item}: give BROKER=ENDPOINT")
        serve[broker] = endpoint
    try:
        results = Runner(scenario, args.pki, args.broker, serve=serve, timeout_ms=args.timeout).run()
    except Unreachable as e:
        return _fail(EXIT_UNREACHABLE, f"the broker at {args.broker} is unreachable: {e}")
    passed = sum(1 for r in results if r.passed)
    if args.json:
        print(json.dumps({"scenario": args.scenario, "cases": [
            {"name": r.name, "report_id": r.report_id, "expected": r.expected, "got": r.got,
             "reasons": [{"code": x.name, "message": x.message} for x in r.reasons],
             "deliveries_ok": not r.delivery_problems, "delivery_problems": r.delivery_problems,
             "passed": r.passed} for r in results], "passed": passed, "failed": len(results) - passed}))
    else:
        width = max([len("case")] + [len(r.name) for r in results])
        got_width = max([len("got")] + [len(r.got) for r in results])
        exp_width = max([len("expected")] + [len(r.expected) for r in results])
        print(f"{'case':<{width}}  {'expected':<{exp_width}}  {'got':<{got_width}}  deliveries OK?")
        for r in results:
            print(f"{r.name:<{width}}  {r.expected:<{exp_width}}  {r.got:<{got_width}}  "
                  f"{'yes' if not r.delivery_problems else 'NO'}")
        for r in results:
            if r.passed:
                continue
            print(f"\nMISMATCH in case '{r.name}':")
            if r.got != r.expected:
                print(f"  expected {r.expected}, got {r.got}")
                for x in r.reasons:
                    print(f"    {x.name}: {x.message}")
            for p in r.delivery_problems:
                print(f"  delivery: {p}")
        print(f"\n{passed} passed, {len(results) - passed} failed")
    return EXIT_OK if passed == len(results) else EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python3 -m tearline", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    pub = sub.add_parser("pub", help="publish a report of one section and print the broker's verdict")
    _common(pub)
    pub.add_argument("-t", "--topic", required=True, help="topic, e.g. intel.seizures")
    pub.add_argument("--classification", required=True, help=", ".join(CLASSIFICATIONS))
    pub.add_argument("--rel", action="append", metavar="CCC", help="releasable-to country (repeatable or COL,USA)")
    pub.add_argument("--unit", action="append", help="need-to-know unit (repeatable or comma list)")
    pub.add_argument("--orcon", action="store_true", help="originator control")
    pub.add_argument("--text", help="the section's content")
    pub.add_argument("--body-file", help="file holding the section's content ('-': standard input)")
    s = sub.add_parser("sub", help="subscribe and print each report as it arrives")
    _common(s)
    s.add_argument("-t", "--topic", action="append", metavar="PATTERN", help="pattern (repeatable; default '>')")
    s.add_argument("--durable", action="store_true", help="the node's durable mailbox, from its cursor")
    s.add_argument("--count", type=int, help="exit 0 after N reports")
    s.add_argument("--idle-exit", type=int, metavar="MS", help="exit 0 after MS milliseconds without a report")
    s.add_argument("--raw", action="store_true", help="print only the opened sections' bodies")
    inj = sub.add_parser("inject", help="run an injection scenario (docs/injection.md)")
    _common(inj, node=False)
    inj.add_argument("--serve", action="append", metavar="BROKER=ENDPOINT",
                     help="play partner broker BROKER at ENDPOINT (repeatable)")
    inj.add_argument("scenario", help="scenario TOML file")
    args = parser.parse_args(argv)
    if getattr(args, "json", False) and getattr(args, "raw", False):
        parser.error("--json and --raw exclude each other")
    from .errors import TearlineError
    try:
        return {"pub": cmd_pub, "sub": cmd_sub, "inject": cmd_inject}[args.command](args)
    except _Usage as e:
        return _fail(EXIT_USAGE, str(e))
    except TearlineError as e:
        if e.code in (110,):  # UNAVAILABLE
            return _fail(EXIT_UNREACHABLE, f"the broker at {args.broker} is unreachable: {e.message}")
        if e.code == 111:  # HANDSHAKE_REFUSED
            return _fail(EXIT_REFUSED, str(e))
        return _fail(EXIT_USAGE, str(e))


if __name__ == "__main__":
    sys.exit(main())
