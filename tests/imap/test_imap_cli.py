"""The real ``pitchsort`` command against Dovecot: errors are one line with exit 2, no traceback, no secret anywhere."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.imap.store import RunLock

from .imaptest import PASSWORD_ENV, config_text, new_mailbox, pitchsort, write


def assert_clean_failure(done: subprocess.CompletedProcess[str], secret: str, *expected: str, tmp: Path) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for text in expected:
        assert text in lines[0], lines[0]
    log = tmp / "pitchsort.log"
    for output in (done.stdout, done.stderr, log.read_text() if log.exists() else ""):
        assert secret not in output


def test_wrong_password(dovecot, tmp_path):
    box = new_mailbox(dovecot)
    secret = "Wr0ng-Passw0rd-xyz"
    done = pitchsort("run", "--config", str(write(tmp_path, config_text(box, tmp_path))), env={PASSWORD_ENV: secret})
    assert_clean_failure(done, secret, "refused the login", box.user, tmp=tmp_path)


def test_unknown_host(dovecot, tmp_path):
    box = new_mailbox(dovecot)
    text = config_text(box, tmp_path).replace('host = "127.0.0.1"', 'host = "no-such-host.invalid"')
    done = pitchsort("run", "--config", str(write(tmp_path, text)), env={PASSWORD_ENV: box.password})
    assert_clean_failure(done, box.password, "no-such-host.invalid: unknown host", tmp=tmp_path)


def test_self_signed_certificate_without_the_ca(dovecot_tls, tmp_path):
    box = new_mailbox(dovecot_tls)
    text = config_text(box, tmp_path, port=dovecot_tls.tls_port, tls="ssl")
    done = pitchsort("run", "--config", str(write(tmp_path, text)), env={PASSWORD_ENV: box.password})
    assert_clean_failure(done, box.password, "certificate is not trusted", "ca_file", tmp=tmp_path)


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_with_the_company_ca(dovecot_tls, tmp_path, tls):
    box = new_mailbox(dovecot_tls)
    port = dovecot_tls.tls_port if tls == "ssl" else dovecot_tls.port
    text = config_text(box, tmp_path, port=port, tls=tls, account_extra=f'ca_file = "{dovecot_tls.ca_file}"')
    done = pitchsort("run", "--config", str(write(tmp_path, text)), env={PASSWORD_ENV: box.password})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 new messages in 1 folder"


def test_password_command_and_password_in_a_readable_file(dovecot, tmp_path):
    box = new_mailbox(dovecot)
    base = config_text(box, tmp_path)
    text = base.replace(f'password_env = "{PASSWORD_ENV}"', f'password_command = "printf %s {box.password}"')
    done = pitchsort("run", "--config", str(write(tmp_path, text)), env={PASSWORD_ENV: ""})
    assert done.returncode == 0, done.stderr
    text = base.replace(f'password_env = "{PASSWORD_ENV}"', f'password = "{box.password}"')
    done = pitchsort("run", "--config", str(write(tmp_path, text, 0o644)))
    assert done.returncode == 0, done.stderr
    assert "others can read" in done.stderr
    assert box.password not in done.stdout + done.stderr + (tmp_path / "pitchsort.log").read_text()


def test_overlapping_run_exits_at_once(dovecot, tmp_path):
    box = new_mailbox(dovecot)
    path = write(tmp_path, config_text(box, tmp_path))
    with RunLock(tmp_path / "state.sqlite"):
        done = pitchsort("run", "--config", str(path), env={PASSWORD_ENV: box.password})
    assert done.returncode == 1
    assert "another pitchsort run is still going" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_config_check(tmp_path):
    bad = write(tmp_path, """\
[[account]]
name = "hr"
host = "imap.example.com"
port = "993"
tls = "insecure"
user = "hr@example.com"
password_env = "X"
password = "also"
folders = ["INBOX"]

[actions]
cold_pitch = { action = "move" }
uncertain = { action = "move", folder = "Maybe" }
spam = { action = "none" }
""")
    done = pitchsort("config", "check", "--config", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    for problem in ("config.toml: account 'hr': port must be a number",
                    "config.toml: account 'hr': tls = \"insecure\" sends the password in clear text",
                    "config.toml: account 'hr': set only one of password_env, password",
                    "config.toml: actions.cold_pitch: action 'move' needs a folder",
                    "config.toml: actions.uncertain: uncertain mail is never moved",
                    "config.toml: actions.spam: unknown label"):
        assert problem in done.stderr, done.stderr
    good = write(tmp_path, '[[account]]\nhost = "imap.example.com"\nuser = "hr"\npassword_env = "X"\n')
    done = pitchsort("config", "check", "--config", str(good))
    assert done.returncode == 0, done.stderr
    assert "cold_pitch: keyword $pitchsort_cold_pitch" in done.stdout
    missing = pitchsort("run", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "no config file" in missing.stderr
    since = pitchsort("run", "--config", str(good), "--since", "yesterday")
    assert since.returncode == 2 and "--since must be a date" in since.stderr


def test_a_missing_model_fails_at_once_not_on_the_first_new_mail(tmp_path):
    """A quiet night must not hide a broken install: `run` and `config check` both look at the model first."""
    config = write(tmp_path, f'model = "{tmp_path / "no-model"}"\n\n[[account]]\nhost = "127.0.0.1"\nport = 9\n'
                             'tls = "insecure"\ninsecure = true\nuser = "hr"\npassword_env = "X"\n')
    done = pitchsort("run", "--config", str(config), env={"X": "secret"})
    assert done.returncode == 2 and "no trained model in" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    checked = pitchsort("config", "check", "--config", str(config), env={"X": "secret"})
    assert checked.returncode == 2 and "no trained model in" in checked.stderr, checked.stderr
