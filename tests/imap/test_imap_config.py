"""Config validation: every problem found, each with its file and place; secrets never kept or shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.exceptions import AuthError, ConfigError, ConfigProblems
from pipeline.imap.config import Action, default_actions, load, parse, resolve_secret

GOOD = """\
[[account]]
name = "hr"
host = "imap.example.com"
user = "hr@example.com"
password_env = "PITCHSORT_PASSWORD"

[actions]
cold_pitch = { action = "move", folder = "Pitchsort/Cold pitch" }
unsolicited_cv = { action = "copy", folder = "Pitchsort/CV" }
personalized_outreach = { action = "keyword" }
genuine_reply = { action = "none" }
"""

BAD = [
    ('port = "993"', "account 'hr': port must be a number"),
    ("port = 70000", "account 'hr': port must be between 1 and 65535"),
    ('tls = "tls"', "account 'hr': tls must be one of ssl, starttls, insecure"),
    ('tls = "insecure"', "account 'hr': tls = \"insecure\" sends the password in clear text"),
    ("insecure = true", "account 'hr': insecure = true only goes with tls = \"insecure\""),
    ('password = "x"', "account 'hr': set only one of password_env, password"),
    ('ca_file = "/nonexistent/ca.pem"', "account 'hr': ca_file /nonexistent/ca.pem does not exist"),
    ("folders = []", "account 'hr': folders must be a non-empty list"),
    ('folders = ["Pitchsort/CV"]', "actions.unsolicited_cv: folder 'Pitchsort/CV' is also scanned by account 'hr'"),
    ("prot = 1", "account 'hr': unknown key 'prot'"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_good_config_and_defaults(tmp_path):
    config = load(write(tmp_path, GOOD))
    (account,) = config.accounts
    assert (account.port, account.tls, account.folders, account.auth.kind) == (993, "ssl", ("INBOX",), "password_env")
    assert config.actions["cold_pitch"] == Action("move", "Pitchsort/Cold pitch")
    assert config.actions["uncertain"] == Action("keyword", keyword="$pitchsort_uncertain")
    assert config.learn_folders == {"cold_pitch": "Pitchsort/Cold pitch", "unsolicited_cv": "Pitchsort/CV"}
    assert config.threshold == 0.6 and config.since_days == 30


def test_default_actions_are_keywords_only():
    actions = default_actions()
    assert {a.action for label, a in actions.items() if label != "other"} == {"keyword"}
    assert actions["other"].action == "none"  # `other` is never moved, copied or even marked by default


def test_other_is_never_moved_or_copied(tmp_path):
    text = GOOD.replace("[actions]\n", '[actions]\nother = { action = "move", folder = "Other" }\n', 1)
    with pytest.raises(ConfigProblems, match="other mail is never moved or copied"):
        load(write(tmp_path, text))


@pytest.mark.parametrize(("line", "problem"), BAD)
def test_each_problem_is_named_with_its_place(tmp_path, line, problem):
    text = GOOD.replace('user = "hr@example.com"', f'user = "hr@example.com"\n{line}')
    with pytest.raises(ConfigProblems) as info:
        load(write(tmp_path, text))
    assert any(p.startswith(f"config.toml: {problem}") for p in info.value.problems), info.value.problems


def test_all_problems_are_listed_at_once(tmp_path):
    text = GOOD.replace('user = "hr@example.com"', 'port = "x"\ntls = "nope"').replace('action = "keyword"', 'action = "flag"')
    with pytest.raises(ConfigProblems) as info:
        load(write(tmp_path, text))
    assert len(info.value.problems) == 4  # port, tls, missing user, unknown action
    assert str(info.value).endswith("(and 3 more)")


def test_toml_syntax_error_says_where(tmp_path):
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML: .*line 2"):
        load(write(tmp_path, "[[account]]\nhost = \n"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no config file at"):
        load(tmp_path / "missing.toml")


def test_uncertain_is_never_moved(tmp_path):
    with pytest.raises(ConfigProblems, match="uncertain mail is never moved"):
        parse(GOOD + 'uncertain = { action = "move", folder = "X" }\n', tmp_path / "c.toml")


def test_password_in_a_readable_file_warns(tmp_path):
    path = write(tmp_path, GOOD.replace('password_env = "PITCHSORT_PASSWORD"', 'password = "hunter2-secret"'))
    assert not load(path).warnings
    path.chmod(0o644)
    config = load(path)
    assert any("others can read" in w for w in config.warnings)
    assert "hunter2-secret" not in repr(config)


def test_secrets_from_env_and_command(tmp_path, monkeypatch):
    config = load(write(tmp_path, GOOD))
    monkeypatch.delenv("PITCHSORT_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="PITCHSORT_PASSWORD is not set"):
        resolve_secret(config.accounts[0])
    monkeypatch.setenv("PITCHSORT_PASSWORD", "s3cret")
    assert resolve_secret(config.accounts[0]) == "s3cret"
    cmd = load(write(tmp_path, GOOD.replace('password_env = "PITCHSORT_PASSWORD"', 'password_command = "printf \'tok\\nrest\'"')))
    assert resolve_secret(cmd.accounts[0]) == "tok"
    failing_cmd = 'password_command = "sh -c \'echo s3cret; exit 3\'"'
    failing = load(write(tmp_path, GOOD.replace('password_env = "PITCHSORT_PASSWORD"', failing_cmd)))
    with pytest.raises(AuthError) as info:
        resolve_secret(failing.accounts[0])
    assert "exit code 3" in str(info.value) and "s3cret" not in str(info.value)


@pytest.mark.parametrize("password", ['pa"ss\\word', "ünïcødé-pässwörd", 'a\\"b"\\\\c'])
def test_every_form_of_a_secret_is_redacted(password):
    import base64
    import json

    from pipeline.imap.session import redact, remember_secret

    remember_secret(password, "hr@example.com")
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    sasl = base64.b64encode(f"user=hr@example.com\x01auth=Bearer {password}\x01\x01".encode()).decode()
    echoes = [f'a001 NO [AUTHENTICATIONFAILED] "{quoted}" rejected', f"LoginError({password.encode()!r})", repr(password),
              json.dumps({"pw": password}), password.encode().decode("latin-1"), f"AUTHENTICATE XOAUTH2 {sasl}",
              base64.b64encode(password.encode()).decode()]
    for text in echoes:
        cleaned = redact(text)
        assert password not in cleaned and quoted not in cleaned and sasl not in cleaned, cleaned
        assert "***" in cleaned, text
