"""Shared fixtures: small hand-built messages and one trained model per session."""

from __future__ import annotations

import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipeline.mail.message import Message, parse_bytes
from pipeline.model.classifier import language_data_fingerprint, library_versions, make_pipeline, save

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def eml(body: str = "Hej Karin!\n", *, subject: str = "Hej", sender: str = "Anna Lind <anna@kvarn.se>",
        to: str = "Karin Berg <karin.berg@nordvik.se>", headers: dict[str, str] | None = None,
        html: str | None = None, attachments: list[tuple[str, str, bytes]] | None = None) -> bytes:
    """A message as a mail client would write it (utf-8, policy.default)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Tue, 14 Oct 2026 09:12:00 +0200"
    msg["Message-ID"] = f"<{abs(hash((body, subject)))}@kvarn.se>"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, ctype, data in attachments or []:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train on the real corpus through the console script, once per session."""
    folder = tmp_path_factory.mktemp("model")
    done = subprocess.run([BIN / "pitchsort", "train", str(ROOT / "data" / "labeled"), "--model", str(folder), "--folds", "3",
                           "--classifiers", "logreg"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


# A tiny corpus in the spirit of scikit-learn's JUNK_FOOD_DOCS: three of each label.
TINY = {
    "cold_pitch": [
        ("Hi there,\nWe help companies hire faster. Book a demo today.\nUnsubscribe here.", "Hiring made easy"),
        ("Dear Sir/Madam,\nOur platform helps you hire. Book a demo.\nUnsubscribe.", "Hire faster"),
        ("Hi there,\nJust following up on my previous email about our platform. Book a demo.", "Re: Hiring made easy"),
    ],
    "personalized_outreach": [
        ("Hi Karin,\nI read your post on onboarding at Nordvik and your new Umeå team. Would a chat help?", "Your onboarding post"),
        ("Hi Karin,\nSaw Nordvik opened a backend role in Umeå; I placed two Go engineers there. Worth a call?", "Backend role in Umeå"),
        ("Hi Karin,\nMaria Ek suggested I write: your talk on Nordvik's hiring was great. Could we meet?", "Maria Ek suggested"),
    ],
    "unsolicited_cv": [
        ("Hello,\nThis is an open application. Please find my CV attached in case you have something.", "Open application"),
        ("Hello,\nI am looking for a new job and attached my CV. Experience: logistics.", "My CV"),
        ("Hello,\nWe have a candidate for you: strong candidate profile attached, available now.", "Candidate profile"),
    ],
    "genuine_reply": [
        ("Thanks Karin, Thursday 10:00 works for me.", "Re: Interview"),
        ("Thank you for your reply, Karin. I accept the offer and will sign today.", "Re: Offer"),
        ("As we discussed, here are my references. Thanks for the call!", "Re: References"),
    ],
    "other": [
        ("Hi all,\nThe office is closed on Friday for maintenance. Facilities", "Office closed Friday"),
        ("Your password expires in 3 days. Change it in the staff portal.", "Password expiry notice"),
        ("Reminder: all-staff meeting moved to room B at 14:00.", "All-staff meeting"),
    ]
}


def tiny_corpus() -> tuple[list[Message], list[str], list[str]]:
    msgs, labels, groups = [], [], []
    for label, items in TINY.items():
        for i, (body, subject) in enumerate(items):
            headers = {"In-Reply-To": "<x@nordvik.se>"} if label == "genuine_reply" else {}
            sender = "Facilities <facilities@nordvik.se>" if label == "other" else "Anna Lind <anna@kvarn.se>"
            msgs.append(parse_bytes(eml(body, subject=subject, headers=headers, sender=sender), f"{label}{i}"))
            labels.append(label)
            groups.append(f"{label}{i}")
    return msgs, labels, groups


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    msgs, labels, _ = tiny_corpus()
    pipeline = make_pipeline("logreg")
    pipeline.set_params(features__words__tfidf__min_df=1, features__chars__tfidf__min_df=1)
    pipeline.fit(msgs, labels)
    folder = tmp_path_factory.mktemp("model")
    save(pipeline, folder, {"versions": library_versions(), "language_data": language_data_fingerprint()})
    return folder


def cli(*args: str):
    """Invoke the command line in-process; no traceback may reach the user."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result
