"""What `ivr deploy` changes, worked out from what is there: the admin's files get their include once, however
they already wrote it; a second run changes nothing; each change names the reload it needs."""

from __future__ import annotations

import pytest

from ivr.deploy.plan import DeployRefused, Present, Reload, changes, reloads, secret_conf, with_include
from ivr.dialplan.build import EXTENSIONS, MANAGER, QUEUES, build
from ivr.rules.loader import load_rules
from tests.conftest import SHIPPED_RULES

GENERATED = build(load_rules(SHIPPED_RULES))
OWN = {
    "extensions.conf": "[general]\nstatic = yes\n\n[from-carrier]\nexten => _X.,1,Goto(ivr-inbound,${EXTEN},1)\n",
    "queues.conf": "[general]\nshared_lastcall = no\n",
    "manager.conf": "[general]\nenabled = yes\nbindaddr = 127.0.0.1\n\n[admin]\nsecret = x\n",
}
PROMPTS = {"zh/welcome.wav": b"RIFF...", "zh/welcome.alaw": b"\xd5\xd5"}


def fresh() -> Present:
    return Present({**OWN}, {})


def after(present: Present, found: list) -> Present:
    """What is there once the changes are written."""
    etc = dict(present.etc)
    sounds = dict(present.sounds)
    for change in found:
        (etc if change.root == "etc" else sounds)[change.path] = (
            change.after.decode() if change.root == "etc" else change.after
        )
    return Present(etc, sounds)


def test_a_fresh_asterisk_gets_everything_and_reloads_all_three():
    found = changes(GENERATED, PROMPTS, "s3cret", fresh())
    paths = [c.path for c in found]
    assert paths[0] == "ivr-ami-secret.conf" and found[0].private and found[0].after == secret_conf("s3cret")
    assert paths[1:4] == [f"ivr/{name}" for name in GENERATED]
    assert paths[4:7] == ["extensions.conf", "queues.conf", "manager.conf"]
    assert paths[7:] == list(PROMPTS)
    assert reloads(found) == [Reload.MANAGER, Reload.DIALPLAN, Reload.QUEUES]
    extensions = next(c for c in found if c.path == "extensions.conf").after.decode()
    assert extensions.startswith(OWN["extensions.conf"]) and extensions.endswith('#include "ivr/ivr-extensions.conf"\n')


def test_a_second_run_changes_nothing():
    first = changes(GENERATED, PROMPTS, "s3cret", fresh())
    assert changes(GENERATED, PROMPTS, "s3cret", after(fresh(), first)) == []


@pytest.mark.parametrize(
    "written",
    [
        '#include "ivr/ivr-extensions.conf"',
        "#include ivr/ivr-extensions.conf",
        '#include "/etc/asterisk/ivr/ivr-extensions.conf"',
        '  #tryinclude "ivr/ivr-extensions.conf"',
    ],
)
def test_an_include_the_admin_wrote_themselves_is_not_added_again(written):
    assert with_include("extensions.conf", f"[general]\n{written}\n", EXTENSIONS) is None


def test_an_include_in_a_comment_does_not_count():
    added = with_include("extensions.conf", '; #include "ivr/ivr-extensions.conf"\n', EXTENSIONS)
    assert added is not None and added.endswith('#include "ivr/ivr-extensions.conf"\n')


def test_queues_conf_without_general_gets_one_before_the_include():
    added = with_include("queues.conf", None, QUEUES)
    assert added is not None and added.startswith("[general]\n") and added.index("[general]") < added.index("#include")


def test_manager_conf_without_general_is_refused():
    with pytest.raises(DeployRefused, match=r"manager.conf has no \[general\] section, so AMI is off"):
        with_include("manager.conf", "[admin]\nsecret = x\n", MANAGER)


def test_each_change_reloads_only_its_module():
    deployed = after(fresh(), changes(GENERATED, PROMPTS, "s3cret", fresh()))
    rotated = changes(GENERATED, PROMPTS, "n3w", deployed)
    assert [c.path for c in rotated] == ["ivr-ami-secret.conf"] and reloads(rotated) == [Reload.MANAGER]
    edited = dict(GENERATED, **{QUEUES: GENERATED[QUEUES] + "; changed\n"})
    assert reloads(changes(edited, PROMPTS, "s3cret", deployed)) == [Reload.QUEUES]
    new_prompt = changes(GENERATED, {**PROMPTS, "zh/welcome.wav": b"RIFF2"}, "s3cret", deployed)
    assert [c.path for c in new_prompt] == ["zh/welcome.wav"] and reloads(new_prompt) == []
    assert new_prompt[0].before == b"RIFF..."
