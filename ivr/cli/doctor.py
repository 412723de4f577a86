"""`ivr doctor`: proves, check by check, that the live switch runs what the rules file says."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr.cli.deploy import admin_login
from ivr.cli.dialplan import with_engine
from ivr.cli.monitor import add_ami_address
from ivr.cli.route import UsageError
from ivr.cli.serve import DEFAULT_SPOOL, add_store_argument
from ivr.hosts import host_port
from ivr.rules.loader import load_rules


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check that the running Asterisk, engine and store do what the rules say",
        description="Each check prints one line, ok, warn or FAIL, and what to do: Asterisk's version and modules; "
        "every generated context loaded as the rules give it (read back with ShowDialPlan); every queue with the "
        "template's settings and agents logged in (a warning at none during working hours); every prompt in zh in "
        "both formats; a test call Asterisk places into the ivr-doctor context, which the engine answers without "
        "a stub, with the clocks compared (2 s) and Asterisk's reading of the rules' time zone; the monitor's AMI "
        "login (IVR_AMI_USER, IVR_AMI_SECRET or IVR_AMI_SECRET_FILE) and the events and channel variables it "
        "gets; the ticket store writable, the spools empty; the official calendar over the next 40 working days. "
        "The questions are asked as IVR_ADMIN_AMI_USER (IVR_ADMIN_AMI_SECRET or IVR_ADMIN_AMI_SECRET_FILE), a "
        "user that may write system, command, originate and reporting, and read call and user. Exit code 0 only "
        "when every check is ok.",
    )
    parser.add_argument(
        "--rules", default=os.environ.get("IVR_RULES", default_rules), help=f"rules file (default: {default_rules})"
    )
    add_ami_address(parser)
    parser.add_argument(
        "--engine",
        metavar="URL",
        action="append",
        help="the engine URL deploy was given, if not the rules' engine.agi_url (repeated as deploy was: each "
        "engine is called)",
    )
    parser.add_argument(
        "--sounds",
        metavar="DIR",
        help="Asterisk's sounds folder, when on this host: each prompt there is also compared with recordings/",
    )
    add_store_argument(parser)
    parser.add_argument(
        "--spool",
        metavar="DIR",
        action="append",
        help=f"a spool folder that should be empty (default: IVR_SPOOL, else {DEFAULT_SPOOL}; repeat for the "
        "monitor's)",
    )
    parser.add_argument(
        "--asterisk-name",
        default=os.environ.get("IVR_ASTERISK_NAME", ""),
        metavar="NAME",
        help="the monitor's --asterisk-name (IVR_ASTERISK_NAME), to check the monitor names this Asterisk as the "
        "engine does",
    )
    parser.add_argument(
        "--other-asterisk",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help="another Asterisk host sharing the ticket store (same admin AMI login): its name must differ from "
        "this one's; repeat for each",
    )
    parser.add_argument("--json", action="store_true", help="the findings as a JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ivr.ami.client import Credentials
    from ivr.dialplan.build import build
    from ivr.doctor.checks import Status
    from ivr.doctor.probe import Deployment, Login, examine

    rules = with_engine(load_rules(args.rules), args.engine)
    admin = admin_login()
    try:
        mine = Credentials.from_environment()
        monitor: Login | str = Login(args.ami_host, args.ami_port, mine.username, mine.secret)
    except ValueError as exc:
        monitor = f"{exc}, as for `ivr monitor`"
    except OSError as exc:
        monitor = f"the monitor's AMI secret file {exc.filename}: {exc.strerror}"
    spools = args.spool or [os.environ.get("IVR_SPOOL", DEFAULT_SPOOL)]
    deployment = Deployment(
        rules,
        build(rules),
        Login(args.ami_host, args.ami_port, admin.username, admin.secret),
        monitor,
        Path(args.sounds) if args.sounds else None,
        args.store,
        [Path(folder) for folder in spools],
        args.asterisk_name,
        [_address(other, args.ami_port) for other in args.other_asterisk],
    )
    findings = examine(deployment, datetime.now(rules.timezone))
    if args.json:
        print(json.dumps([{"check": f.check, "status": f.status.value, "says": f.says} for f in findings], indent=1))
    else:
        for finding in findings:
            print(finding.line())
    return 0 if all(f.status is Status.OK for f in findings) else 1


def _address(raw: str, default_port: int) -> tuple[str, int]:
    try:
        return host_port(raw, default_port)
    except ValueError as exc:
        raise UsageError(f"--other-asterisk {exc}") from None
