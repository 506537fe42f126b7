"""Plain words for the features that drove a decision, for the CSV's ``reasons``."""

from __future__ import annotations

SIGNAL_WORDS: dict[str, str] = {
    "greet_generic": "generic greeting",
    "greet_recipient_name": "greets you by name",
    "greet_other_name": "greets someone else by name",
    "greet_name_unverified": "greets by a name",
    "greet_none": "no greeting",
    "merge_field": "merge field left in",
    "company_named": "names your company",
    "cv_headings": "CV sections in the body",
    "job_seeking": "job-seeking wording",
    "candidate_offer": "presents a candidate",
    "nudge": "follow-up nudge",
    "unsubscribe": "unsubscribe wording",
    "service_pitch": "sales wording",
    "previous_contact": "refers to an earlier contact",
    "decline": "declines",
    "you_share": "speaks to you",
    "questions": "asks questions",
    "subject_reply": "reply subject",
    "fake_reply_subject": "reply subject without a thread",
    "subject_forward": "forwarded",
    "threaded": "threading headers",
    "references": "part of a thread",
    "replies_to_owner": "replies to your message",
    "replies_to_self": "follows up its own message",
    "quoted_share": "quotes earlier mail",
    "quotes_owner": "quotes your mail",
    "quotes_self": "quotes its own earlier mail",
    "list_unsubscribe": "List-Unsubscribe",
    "list_headers": "mailing-list headers",
    "bulk_mailer": "sent by a bulk-mail tool",
    "campaign_headers": "campaign headers",
    "html_only": "HTML only",
    "links": "links",
    "images": "images",
    "tracking_pixel": "tracking pixel",
    "freemail_sender": "private address",
    "many_recipients": "several recipients",
    "bcc_only": "sent to its sender, the readers in Bcc",
    "internal_reply": "a colleague answering you",
    "internal_new": "a colleague's new message",
    "signature": "signature",
    "length": "message length",
    "short": "short message",
    "attachments": "attachments",
    "attach_pdf": "PDF attached",
    "attach_docx": "DOCX attached",
    "attach_doc": "document attached",
    "attach_image": "image attached",
    "attach_cv_name": "CV-named attachment",
    "attach_cv_headings": "attachment reads as a CV",
    "template_copies": "near copies of the same text",
    "template_recipients": "same text to other recipients",
    "template_senders": "same text from several senders",
}


def describe(feature: str, context: dict[str, str] | None = None) -> str | None:
    """Words for one feature name as the feature union names it, or None to leave it out.

    ``context`` holds words about this very message that replace the general
    ones: "14 near copies" rather than "near copies of the same text",
    "replies to your message of 3 Nov" rather than "replies to your message".
    """
    block, _, name = feature.partition("__")
    if block == "signals":
        if name.startswith("lang_"):
            return None
        if context and name in context:
            return context[name]
        return SIGNAL_WORDS.get(name, name.replace("_", " "))
    if block == "words":
        if name.startswith("<") or name.startswith("subj:<"):
            return None
        return f"“{name.removeprefix('subj:')}”"
    return None


# The signals whose words :func:`message_context` makes specific to one message.
CONTEXT_SIGNALS = frozenset({"template_copies", "template_recipients", "template_senders", "replies_to_owner", "quotes_owner"})


def message_context(template_size: int | None, template_recipients: int | None, template_senders: int | None,
                    quoted_on: str | None) -> dict[str, str]:
    """The per-message words :func:`describe` uses, from a message's template family and quoted date."""
    out: dict[str, str] = {}
    if template_size and template_size > 1:
        n = template_size - 1
        out["template_copies"] = f"{n} near {'copy' if n == 1 else 'copies'}"
    if template_recipients and template_recipients > 1:
        n = template_recipients - 1
        out["template_recipients"] = f"same text to {n} other recipient{'s' * (n != 1)}"
    if template_senders and template_senders > 1:
        out["template_senders"] = f"same text from {template_senders} senders"
    if quoted_on:
        out["replies_to_owner"] = f"replies to your message of {quoted_on}"
        out["quotes_owner"] = f"quotes your mail of {quoted_on}"
    return out
