"""`ivr deploy`: from the rules file to a running Asterisk in one command (what docs/asterisk.md lists by hand)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.cli.dialplan import with_engine
from ivr.cli.monitor import add_ami_address
from ivr.cli.route import UsageError
from ivr.prompts.checks import check_recordings
from ivr.prompts.files import sounds_files
from ivr.rules.loader import load_rules
from ivr.rules.yamlsource import RulesError

DEFAULT_ETC = "/etc/asterisk"
DEFAULT_SOUNDS = "/var/lib/asterisk/sounds"
ADMIN_AMI = "IVR_ADMIN_AMI"

if TYPE_CHECKING:
    from ivr.ami.client import Credentials


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "deploy",
        help="put the rules' dialplan, queues, AMI user and prompts into Asterisk and reload what changed",
        description="Write the generated files into ETC/ivr/, add their #include lines once to the admin's own "
        "extensions.conf, queues.conf and manager.conf (a backup of every replaced file goes to "
        "ETC/ivr-backup/TIME/), write ETC/ivr-ami-secret.conf from the monitor's secret (IVR_AMI_SECRET_FILE, made "
        "if missing), copy both formats of every prompt into SOUNDS/zh/, then reload through AMI only what "
        "changed (manager, pbx_config, app_queue), logged in as IVR_ADMIN_AMI_USER with IVR_ADMIN_AMI_SECRET or "
        "IVR_ADMIN_AMI_SECRET_FILE, and the engine and the monitor (--reload). Refused, with nothing written, "
        "when `ivr check` finds a problem. A second run with the same rules changes nothing.",
    )
    parser.add_argument("--rules", default=default_rules, help=f"rules file (default: {default_rules})")
    parser.add_argument(
        "--asterisk-etc", metavar="DIR", default=DEFAULT_ETC, help=f"Asterisk's configuration (default: {DEFAULT_ETC})"
    )
    parser.add_argument(
        "--sounds", metavar="DIR", default=DEFAULT_SOUNDS, help=f"Asterisk's sounds folder (default: {DEFAULT_SOUNDS})"
    )
    add_ami_address(parser)
    parser.add_argument(
        "--engine",
        metavar="URL",
        action="append",
        help="the engine Asterisk calls, instead of the rules' engine.agi_url (as for `ivr dialplan build`; repeat "
        "for engines to try in turn)",
    )
    parser.add_argument(
        "--reload",
        metavar="PID|UNIT",
        action="append",
        help="after Asterisk, make this engine or monitor reread the rules: a pid gets SIGHUP, a systemd unit "
        "`systemctl reload` (default: ivr-serve and ivr-monitor when systemd runs the machine; repeat for several)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print every change as a diff; write and reload nothing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ivr.ami.blocking import AmiUnavailable, BlockingAmi
    from ivr.deploy import apply, plan, reload
    from ivr.dialplan.build import build

    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        return _refused([str(problem) for problem in exc.problems])
    recording_problems = check_recordings(rules.prompts, rules.recordings)
    if recording_problems:
        return _refused([str(problem) for problem in recording_problems])
    etc, sounds = Path(args.asterisk_etc), Path(args.sounds)
    if not etc.is_dir():
        raise UsageError(f"--asterisk-etc {etc}: no such folder")
    login = None if args.dry_run else admin_login(": an AMI user of yours that may reload (write = system)")
    generated = build(with_engine(rules, args.engine))
    prompts = sounds_files(rules.prompts, rules.recordings)
    try:
        secret = apply.monitor_secret(os.environ, create=not args.dry_run)
    except OSError as exc:
        raise UsageError(f"the monitor's AMI secret file {exc.filename}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        found = plan.changes(generated, prompts, secret, apply.present(etc, sounds, generated, prompts))
    except plan.DeployRefused as exc:
        print(f"ivr deploy: refused: {exc}", file=sys.stderr)
        return 1
    roots = {"etc": etc, "sounds": sounds}
    reloads = plan.reloads(found)
    targets = args.reload if args.reload is not None else reload.default_targets()
    if login is None:
        if not secret:
            print(f"create {os.environ['IVR_AMI_SECRET_FILE']} (mode 600, the monitor's AMI secret)")
        for change in found:
            print(apply.describe(change, roots), end="")
        print(f"would reload: {', '.join(r.value for r in reloads) or 'nothing in Asterisk'}")
        print(f"would reload the engine and monitor: {', '.join(targets) or 'none named (--reload)'}")
        return 0
    try:
        # Logged in before anything is written: an Asterisk that cannot be reached or refuses the login gets no
        # files it would not load.
        ami = BlockingAmi(args.ami_host, args.ami_port, login.username, login.secret) if reloads else None
    except AmiUnavailable as exc:
        print(f"ivr deploy: nothing written: {exc}", file=sys.stderr)
        return 1
    try:
        backup = apply.write(found, roots, datetime.now())
        for change in found:
            print(f"wrote {roots[change.root] / change.path}")
        if backup is not None:
            print(f"replaced files kept in {backup}")
        if not found:
            print(f"nothing to change: {etc} and {sounds} hold what {args.rules} generates")
        if ami is not None:
            for line in reload.reload_asterisk(ami, reloads):
                print(line)
        for target in targets:
            print(reload.reload_service(target))
    except OSError as exc:
        print(f"ivr deploy: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    except (AmiUnavailable, reload.ReloadFailed) as exc:
        print(f"ivr deploy: files written, but {exc}", file=sys.stderr)
        return 1
    finally:
        if ami is not None:
            ami.close()
    return 0


def admin_login(why: str = "") -> Credentials:
    """The admin's AMI login (IVR_ADMIN_AMI_*) for deploy and doctor; a missing one is a usage error, `why` added."""
    from ivr.ami.client import Credentials

    try:
        return Credentials.from_environment(prefix=ADMIN_AMI)
    except ValueError as exc:
        raise UsageError(f"{exc}{why}") from None
    except OSError as exc:
        raise UsageError(f"AMI secret file {exc.filename}: {exc.strerror}") from None


def _refused(problems: list[str]) -> int:
    more = f" (and {len(problems) - 1} more: run ivr check)" if len(problems) > 1 else ""
    print(f"ivr deploy: refused, nothing written: {problems[0]}{more}", file=sys.stderr)
    return 1
