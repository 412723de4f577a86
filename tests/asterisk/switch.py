"""A throwaway real Asterisk 22 in a folder of its own, configured as an admin following the README would: the
files of `ivr dialplan build` included from extensions.conf, queues.conf and manager.conf, the AMI secret in
ivr-ami-secret.conf, the prompts of recordings/ in sounds/zh. Only the world around the project is the test's
(`world.conf`: agents, citizens, department seats, the emergency and outbound contexts) and so is the judge's
AMI user, which reads everything. AMI listens on a free loopback port; queue_log and cdr_csv are on."""

from __future__ import annotations

import csv
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.asterisk.ami import Ami
from tests.conftest import ROOT
from tests.tickets.redisserver import free_port

JUDGE = "judge"
INCLUDED = ("extensions", "queues", "manager")
MONITOR = "ivr-monitor"
# What the lab's modules.conf leaves out (see the captures), plus what no test here uses and costs start-up time.
NOLOAD = (
    "res_rtp_asterisk.so",
    "bridge_native_rtp.so",
    "res_http_websocket.so",
    "res_format_attr_opus.so",
    "chan_iax2.so",
    "chan_unistim.so",
    "chan_mgcp.so",
    "chan_skinny.so",
    "res_phoneprov.so",
    "res_smdi.so",
    "cdr_custom.so",
    "cdr_sqlite3_custom.so",
    "cel_custom.so",
    "cel_sqlite3_custom.so",
    "res_config_sqlite3.so",
    "res_stasis_test.so",
    "pbx_dundi.so",
    "res_pjsip.so",
)


@dataclass
class Switch:
    prefix: Path
    generated: Path  # the folder `ivr dialplan build` wrote
    recordings: Path
    world: str  # world.conf: the test's phones, seats and outside contexts
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="switch-")))
    ami_port: int = field(default_factory=free_port)
    judge_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    monitor_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    process: subprocess.Popen[bytes] | None = None
    ami: Ami | None = None
    # False: the admin's own files only, as before the first `ivr deploy` (no #include lines, no ivr/ folder, no
    # secret file, no prompts in sounds/zh).
    deployed: bool = True

    @property
    def conf(self) -> Path:
        return self.folder / "etc" / "asterisk.conf"

    @property
    def log(self) -> Path:
        return self.folder / "log" / "messages.log"

    @property
    def sounds(self) -> Path:
        return self.folder / "data" / "sounds"

    @property
    def spy(self) -> Path:
        """Where citizens' recordings of what they heard go."""
        return self.folder / "heard"

    def configure(self) -> None:
        etc = self.folder / "etc"
        for sub in ("etc", "var/lib/keys", "spool", "run", "log/cdr-csv", "data/moh", "agi-bin", "heard"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        # Asterisk refuses to start without its XML documentation (stasis reads it), which lives in astdatadir.
        (self.folder / "data" / "documentation").symlink_to(self.prefix / "var/lib/asterisk/documentation")
        f = self.folder
        (etc / "asterisk.conf").write_text(
            "[directories]\n"
            f"astetcdir => {etc}\nastmoddir => {self.prefix}/lib/asterisk/modules\n"
            f"astvarlibdir => {f}/var/lib\nastdbdir => {f}/var/lib\nastkeydir => {f}/var/lib\n"
            f"astdatadir => {f}/data\nastagidir => {f}/agi-bin\nastspooldir => {f}/spool\n"
            f"astrundir => {f}/run\nastlogdir => {f}/log\nastsbindir => {self.prefix}/sbin\n"
            "[options]\nverbose = 3\ndebug = 0\nrunuser = root\nrungroup = root\n"
            "defaultlanguage = en\ndocumentation_language = en_US\nhideconnect = no\n",
            encoding="utf-8",
        )
        (etc / "modules.conf").write_text(
            "[modules]\nautoload = yes\n" + "".join(f"noload => {m}\n" for m in NOLOAD), encoding="utf-8"
        )
        (etc / "logger.conf").write_text(
            "[general]\ndateformat = %F %T.%3q\nqueue_log = yes\n"
            "[logfiles]\nmessages.log => notice,warning,error,verbose\n",
            encoding="utf-8",
        )
        (etc / "cdr.conf").write_text(
            "[general]\nenable = yes\n"
            "[csv]\nusegmtime = no\nloguniqueid = yes\nloguserfield = yes\nnewcdrcolumns = yes\n",
            encoding="utf-8",
        )
        (etc / "musiconhold.conf").write_text(
            "[general]\n[default]\nmode = files\ndirectory = moh\nsort = alpha\n", encoding="utf-8"
        )
        # The world's agents' phones: an attended-transfer key (Asterisk has none by default, features_config.c).
        (etc / "features.conf").write_text("[general]\n\n[featuremap]\natxfer => *2\n", encoding="utf-8")
        lab = ROOT / "tests" / "data" / "asterisk-transcripts" / "lab-config"
        shutil.copy(lab / "indications.conf", etc / "indications.conf")
        # The admin's own files, with the three #include lines of the README (once deployed).
        include = {name: f'#include "ivr/ivr-{name}.conf"\n' if self.deployed else "" for name in INCLUDED}
        (etc / "extensions.conf").write_text(
            "[general]\nstatic = yes\nwriteprotect = yes\nclearglobalvars = no\n\n[globals]\n\n"
            f'{include["extensions"]}#include "world.conf"\n',
            encoding="utf-8",
        )
        (etc / "world.conf").write_text(self.world, encoding="utf-8")
        (etc / "queues.conf").write_text(f"[general]\nshared_lastcall = no\n\n{include['queues']}", encoding="utf-8")
        (etc / "manager.conf").write_text(
            f"[general]\nenabled = yes\nwebenabled = no\nport = {self.ami_port}\nbindaddr = 127.0.0.1\n"
            # Every event carries Asterisk's own clock (Timestamp: epoch.usec): how long things took, by the switch.
            "timestampevents = yes\n\n"
            f"[{JUDGE}]\nsecret = {self.judge_secret}\ndeny = 0.0.0.0/0.0.0.0\n"
            "permit = 127.0.0.1/255.255.255.255\nread = all\nwrite = all\n\n"
            f"{include['manager']}",
            encoding="utf-8",
        )
        if self.deployed:
            secret_file = etc / "ivr-ami-secret.conf"
            secret_file.write_text(f"secret = {self.monitor_secret}\n", encoding="utf-8")
            secret_file.chmod(0o600)
            self.install_generated()
            zh = self.sounds / "zh"
            zh.mkdir(parents=True, exist_ok=True)
            for prompt in self.recordings.glob("*"):
                if prompt.suffix in (".wav", ".alaw"):
                    shutil.copy(prompt, zh / prompt.name)
        subprocess.run(
            [
                "sox",
                "-n",
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                str(self.folder / "data/moh/hold.wav"),
                "synth",
                "10",
                "sine",
                "440",
                "gain",
                "-12",
            ],
            check=True,
        )

    def use_judge_secret(self, secret: str) -> None:
        """Before start: the judge logs in with `secret`, as one admin AMI login serves every host of a centre."""
        manager = self.folder / "etc" / "manager.conf"
        text = manager.read_text(encoding="utf-8")
        manager.write_text(text.replace(f"secret = {self.judge_secret}\n", f"secret = {secret}\n"), encoding="utf-8")
        self.judge_secret = secret

    def install_generated(self) -> None:
        (self.folder / "etc" / "ivr").mkdir(exist_ok=True)
        for conf in self.generated.glob("ivr-*.conf"):
            shutil.copy(conf, self.folder / "etc" / "ivr" / conf.name)

    def load_dialplan(self, name: str, text: str) -> None:
        """A test's own dialplan file `name` beside world.conf, #included from extensions.conf and loaded with
        `dialplan reload` (synchronous: pbx_config reloads in the CLI's thread), so a test can run its own small
        contexts on the running switch without touching the generated files."""
        etc = self.folder / "etc"
        (etc / name).write_text(text, encoding="utf-8")
        extensions = etc / "extensions.conf"
        include = f'#include "{name}"\n'
        if include not in extensions.read_text(encoding="utf-8"):
            with extensions.open("a", encoding="utf-8") as handle:
                handle.write(include)
        self.cli("dialplan reload")

    def start(self) -> None:
        out = (self.folder / "log" / "console.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.prefix / "sbin" / "asterisk"), "-C", str(self.conf), "-f", "-n", "-U", "root"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while self.cli("core waitfullybooted", timeout=60, check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Asterisk did not start:\n{self.log_tail()}")
            time.sleep(0.1)
        self.ami = Ami(self.ami_port, JUDGE, self.judge_secret)

    def cli(self, command: str, timeout: float = 15, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.prefix / "sbin" / "asterisk"), "-C", str(self.conf), "-rx", command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"asterisk -rx {command!r} failed: {result.stdout}{result.stderr}")
        return result

    def restart(self) -> Ami:
        """`core restart now` as an admin types it: Asterisk hangs up every call and execs itself again (same
        process under -f). Waits until the judge's AMI connection is closed by the old Asterisk (so the new one is
        the one that answers `core waitfullybooted`), then logs the judge in again. Returns the judge's old
        connection, whose events up to the restart a test still reads."""
        old = self.ami
        assert old is not None and self.process is not None
        self.cli("core restart now", check=False)
        old._until(lambda: old.closed or None, 60, "the judge's AMI connection closed by the restart")
        deadline = time.monotonic() + 60
        while self.cli("core waitfullybooted", timeout=60, check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Asterisk did not come back:\n{self.log_tail()}")
            time.sleep(0.1)
        self.ami = Ami(self.ami_port, JUDGE, self.judge_secret)
        return old

    def stop(self) -> None:
        if self.ami is not None:
            self.ami.close()
            self.ami = None
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.cli("core stop now", check=False)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a wedged switch: its console or its exit; the next module needs a clean one
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 200) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def queue_log(self) -> list[list[str]]:
        """Asterisk's own record of every queue event: time|callid|queue|agent|event|data…"""
        path = self.folder / "log" / "queue_log"
        if not path.exists():
            return []
        return [line.split("|") for line in path.read_text(encoding="utf-8").splitlines() if line]

    def cdrs(self) -> list[dict[str, str]]:
        """Asterisk's call detail records (cdr_csv's Master.csv, columns as cdr_csv writes them)."""
        path = self.folder / "log" / "cdr-csv" / "Master.csv"
        if not path.exists():
            return []
        with path.open(encoding="utf-8", newline="") as handle:
            return [dict(zip(CDR_COLUMNS, row, strict=False)) for row in csv.reader(handle)]


# cdr_csv's column order with loguniqueid and loguserfield (cdr/cdr_csv.c, build_csv_record).
CDR_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    "peeraccount",
    "linkedid",
    "sequence",
)
