"""SASL XOAUTH2 against Dovecot's oauth2 passdb, with a local token-info endpoint standing in for Google/Microsoft."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from .imaptest import Dovecot, Mailbox, config_text, pitchsort, write

TOKENS: dict[str, str] = {}


class TokenInfo(BaseHTTPRequestHandler):
    """Answers Dovecot's token lookups: which user a bearer token belongs to, or 401."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        token = self.path.rsplit("=", 1)[-1]
        user = TOKENS.get(token)
        body = json.dumps({"username": user, "active": "true"} if user else {"error": "invalid_token"}).encode()
        self.send_response(200 if user else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def dovecot_oauth2() -> Iterator[Dovecot]:
    httpd = HTTPServer(("127.0.0.1", 0), TokenInfo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with Dovecot(oauth2_tokeninfo=f"http://127.0.0.1:{httpd.server_port}/tokeninfo?access_token=") as server:
            yield server
    finally:
        httpd.shutdown()


def oauth2_config(server: Dovecot, tmp_path, user: str, token: str) -> str:
    box = Mailbox(server, user, "")
    text = config_text(box, tmp_path)
    return text.replace('password_env = "PITCHSORT_TEST_PASSWORD"', f'oauth2_token_command = "printf %s {token}"')


def test_xoauth2_login_with_a_token_from_a_command(dovecot_oauth2, tmp_path):
    user, token = f"o{secrets.token_hex(4)}", f"ya29.{secrets.token_urlsafe(24)}"
    TOKENS[token] = user
    done = pitchsort("run", "--config", str(write(tmp_path, oauth2_config(dovecot_oauth2, tmp_path, user, token))))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 new messages in 1 folder"
    assert token not in done.stdout + done.stderr + (tmp_path / "pitchsort.log").read_text()


def test_xoauth2_refused_token(dovecot_oauth2, tmp_path):
    token = f"ya29.{secrets.token_urlsafe(24)}"  # not known to the token-info endpoint
    done = pitchsort("run", "--config", str(write(tmp_path, oauth2_config(dovecot_oauth2, tmp_path, "nobody", token))))
    assert done.returncode == 2
    assert "refused the login" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert token not in done.stdout + done.stderr + (tmp_path / "pitchsort.log").read_text()
