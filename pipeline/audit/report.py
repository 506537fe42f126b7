"""The audit as one self-contained HTML page: inline CSS, inline SVG charts, no script, no network.

Every key figure sits in an element with a stable ``id`` and a ``data-value``
(``#n-messages``, ``#share-templated``, ``#rate-personal``…), families and
nudge counts in rows with ``data-*`` attributes, so a test (or a script) reads
the numbers without scraping text. Message ids link as ``mid:`` URLs
(RFC 2392), which a mail client opens, and each row has an anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from pipeline.audit.sent import FINDING_TEXT, FINDINGS, NUDGE_BUCKETS, AuditResult, AuditRow, Rate, nudge_text

CHART_TEXT = {"merge_field": "merge field left in", "wrong_name": "wrong name", "wrong_company": "wrong company",
              "generic_greeting": "generic greeting", "cv_first_contact": "CV on first contact", "nudge_after_no": "nudged after a no",
              "unanswered_nudge": "unanswered nudge"}
TEMPLATED_COLOUR, PERSONAL_COLOUR, ANSWER_COLOUR, FINDING_COLOUR, TRACK = "#d9822b", "#2a9d8f", "#2a6fb0", "#c0392b", "#e8e8e8"

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#f6f6f4}
main{max-width:1120px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:0 0 10px}
.sub{color:#666;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin-bottom:20px}
.card{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .k{color:#666;font-size:13px}.card .v{font-size:28px;font-weight:650;display:block}.card small{color:#666}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px;margin-bottom:20px}
.panel{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08);margin-bottom:16px}
.panel p.note{color:#666;font-size:13px;margin:6px 0 0}
svg text{font:13px system-ui,sans-serif;fill:#333}svg .muted{fill:#777}svg .strong{font-weight:650}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{background:#fafafa;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.tag{display:inline-block;background:#fdecea;color:#8e2a1f;border-radius:4px;padding:1px 6px;margin:1px 4px 1px 0;font-size:12px}
.yes{color:#1d7a3a;font-weight:600}.no{color:#a33}.unknown{color:#888}
.basis{color:#666;font-size:12px}
td.mid{font:11.5px ui-monospace,monospace;word-break:break-all;width:17%}
#findings-table td:nth-child(2),#messages td:nth-child(2){width:20%}
#findings-table td:nth-child(3){width:24%}
#findings-table td:nth-child(4){width:22%}
.fam{color:#888;font-size:12px}
summary{cursor:pointer}
a{color:#2a6fb0}
.legend span{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 12px}
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _data(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _rate_attrs(rate: Rate) -> str:
    return f'data-value="{_data(rate.rate)}" data-answered="{rate.answered}" data-total="{rate.total}"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1 for rates, a count for counts
    text: str
    colour: str
    attrs: str = ""


def hbar_chart(bars: list[Bar], *, title: str, maximum: float, width: int = 600, label_width: int = 270) -> str:
    """Horizontal bars, one per item, with the figure written beside each bar."""
    row, top = 28, 6
    height = top + row * max(1, len(bars)) + 4
    track = width - label_width - 90
    out = [f'<svg role="img" aria-label="{escape(title)}" width="100%" viewBox="0 0 {width} {height}">', f"<title>{escape(title)}</title>"]
    if not bars:
        out.append(f'<text x="0" y="{top + 16}" class="muted">nothing to show</text>')
    for i, bar in enumerate(bars):
        y = top + i * row
        length = 0 if maximum <= 0 else round(track * min(bar.value, maximum) / maximum, 1)
        out.append(f"<g {bar.attrs}>"
                   f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{escape(bar.label)}</text>'
                   f'<rect x="{label_width}" y="{y + 3}" width="{track}" height="16" rx="3" fill="{TRACK}"/>'
                   f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="16" rx="3" fill="{bar.colour}"/>'
                   f'<text x="{label_width + track + 8}" y="{y + 15}" class="strong">{escape(bar.text)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def share_chart(templated: int, personal: int, width: int = 520) -> str:
    """One stacked bar: how much of the mail was templated and how much personal."""
    total = templated + personal
    title = "Templated and personal mail"
    out = [f'<svg role="img" aria-label="{title}" width="100%" viewBox="0 0 {width} 74"><title>{title}</title>']
    if total == 0:
        out.append('<text x="0" y="20" class="muted">no mail</text></svg>')
        return "".join(out)
    t_len = round(width * templated / total, 1)
    out.append(f'<rect x="0" y="8" width="{t_len}" height="34" fill="{TEMPLATED_COLOUR}"/>'
               f'<rect x="{t_len}" y="8" width="{width - t_len}" height="34" fill="{PERSONAL_COLOUR}"/>')
    if templated:
        out.append(f'<text x="8" y="30" style="fill:#fff" class="strong">{templated / total:.0%} templated</text>')
    if personal:
        out.append(f'<text x="{width - 8}" y="30" text-anchor="end" style="fill:#fff" class="strong">'
                   f"{personal / total:.0%} personal</text>")
    out.append(f'<text x="0" y="64" class="muted">{templated} templated · {personal} personal · {total} messages</text></svg>')
    return "".join(out)


def vbar_chart(bars: list[Bar], *, title: str, width: int = 520, height: int = 210) -> str:
    """Vertical bars of rates (0-100 %), the figure above each bar and its caption below."""
    out = [f'<svg role="img" aria-label="{escape(title)}" width="100%" viewBox="0 0 {width} {height}">', f"<title>{escape(title)}</title>"]
    base, top = height - 42, 22
    slot = width / max(1, len(bars))
    out.append(f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#ccc"/>')
    for i, bar in enumerate(bars):
        x = i * slot + slot * 0.2
        w = slot * 0.6
        h = round((base - top) * min(max(bar.value, 0.0), 1.0), 1)
        out.append(f"<g {bar.attrs}>"
                   f'<rect x="{x:.1f}" y="{base - (base - top):.1f}" width="{w:.1f}" height="{base - top}" fill="{TRACK}" rx="3"/>'
                   f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h}" fill="{bar.colour}" rx="3"/>'
                   f'<text x="{x + w / 2:.1f}" y="{top - 6}" text-anchor="middle" class="strong">{escape(bar.text)}</text>'
                   f'<text x="{x + w / 2:.1f}" y="{base + 18}" text-anchor="middle">{escape(bar.label)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _rate_text(rate: Rate) -> str:
    return "–" if rate.rate is None else f"{rate.rate:.0%} ({rate.answered}/{rate.total})"


def _mid_link(row: AuditRow) -> str:
    if not row.message_id:
        return escape(row.source)
    bare = row.message_id.strip("<>")
    return f'<a href="mid:{escape(bare, quote=True)}" title="open in your mail client">{escape(row.message_id)}</a>'


def _family_cell(row: AuditRow) -> str:
    kind = f"template sent {row.template_size}×" if row.templated else "personal"
    return f'{kind}<div class="fam">{row.template_id}</div>'


def _answered(row: AuditRow) -> str:
    return f'<span class="{row.answered}">{row.answered}</span>'


def _tags(row: AuditRow) -> str:
    texts = []
    for code in row.findings:
        text = nudge_text(row.nudges) if code == "unanswered_nudge" else FINDING_TEXT[code]
        texts.append(f'<span class="tag" title="{code}">{escape(text)}</span>')
    return "".join(texts)


def _row_attrs(i: int, row: AuditRow) -> str:
    return (f'id="msg-{i}" data-message-id="{escape(row.message_id, quote=True)}" data-findings="{";".join(row.findings)}" '
            f'data-answered="{row.answered}" data-personalization="{row.personalization.score}" '
            f'data-template-id="{row.template_id}" data-template-size="{row.template_size}" data-nudges="{row.nudges}"')


def render(result: AuditResult, *, title: str = "Outreach audit", sent_from: str = "", inbox_from: str = "") -> str:
    """The whole report as one HTML string."""
    t = result.totals
    rows = result.rows
    dates = sorted(r.date[:10] for r in rows if r.date)
    span = f"{dates[0]} to {dates[-1]}" if dates else "undated mail"
    inbox_note = f"answers looked up in {escape(inbox_from)}" if t.inbox else "no Inbox given: answers unknown"
    other_note = f"; {t.other} more to colleagues or private (label other) left out" if t.other else ""
    with_findings = sum(1 for r in rows if r.findings)

    cards = [
        ("Messages audited", f'<b class="v" id="n-messages" data-value="{t.messages}">{t.messages}</b><small>{escape(span)}</small>'),
        ("Templated", f'<b class="v" id="share-templated" data-value="{_data(t.templated_share)}">{_pct(t.templated_share)}</b>'
                      f'<small><span id="n-templated" data-value="{t.templated}">{t.templated}</span> sent as a template</small>'),
        ("Personal", f'<b class="v" id="share-personal" data-value="{_data(t.personal_share)}">{_pct(t.personal_share)}</b>'
                     f'<small><span id="n-personal" data-value="{t.personal}">{t.personal}</span> written once</small>'),
        ("Answered, templated", f'<b class="v" id="rate-templated" {_rate_attrs(t.templated_rate)}>{_pct(t.templated_rate.rate)}</b>'
                                f"<small>{t.templated_rate.answered} of {t.templated_rate.total}</small>"),
        ("Answered, personal", f'<b class="v" id="rate-personal" {_rate_attrs(t.personal_rate)}>{_pct(t.personal_rate.rate)}</b>'
                               f"<small>{t.personal_rate.answered} of {t.personal_rate.total}</small>"),
        ("With findings", f'<b class="v" id="n-with-findings" data-value="{with_findings}">{with_findings}</b>'
                          f"<small>of {t.messages} messages</small>"),
    ]
    card_html = "".join(f'<div class="card"><span class="k">{k}</span>{v}</div>' for k, v in cards)

    family_bars = [Bar(f"{_short(f.subject)} ({f.size} sent)", f.rate.rate or 0.0, _rate_text(f.rate), TEMPLATED_COLOUR,
                       f'class="family" data-template-id="{f.template_id}" data-size="{f.size}" {_rate_attrs(f.rate)}')
                   for f in t.families]
    family_bars.append(Bar(f"personal mail ({t.personal} sent)", t.personal_rate.rate or 0.0, _rate_text(t.personal_rate),
                           PERSONAL_COLOUR, f'class="personal" data-size="{t.personal}" {_rate_attrs(t.personal_rate)}'))
    captions = {"0": "first mail", "1": "1 nudge", "2": "2 nudges", "3+": "3+ nudges"}
    nudge_bars = [Bar(f"{captions[k]} · {t.nudge_messages[k]} sent",
                      t.by_nudges[k].rate or 0.0, _pct(t.by_nudges[k].rate), ANSWER_COLOUR,
                      f'class="nudges" data-nudges="{k}" data-messages="{t.nudge_messages[k]}" {_rate_attrs(t.by_nudges[k])}')
                  for k in NUDGE_BUCKETS if k in t.by_nudges]
    finding_bars = [Bar(CHART_TEXT[code], t.findings.get(code, 0), str(t.findings.get(code, 0)), FINDING_COLOUR,
                        f'class="finding" data-finding="{code}" data-count="{t.findings.get(code, 0)}"') for code in FINDINGS]
    answers_note = "" if t.inbox else '<p class="note">No Inbox was given, so answers are unknown; run with --inbox.</p>'
    charts = (
        f'<div class="panel"><h2>Templated or personal?</h2>{share_chart(t.templated, t.personal)}'
        f'<p class="note">Templated: the same text (names, companies, dates and numbers aside) went to two or more people.</p></div>'
        f'<div class="panel"><h2>What slipped through</h2>'
        f'{hbar_chart(finding_bars, title="Findings", maximum=max([1, *t.findings.values()]))}</div>'
        f'<div class="panel"><h2>Who answers: templates against personal mail</h2>'
        f'{hbar_chart(family_bars, title="Answer rate by template family", maximum=1.0)}{answers_note}</div>'
        f'<div class="panel"><h2>Does nudging help?</h2>'
        f'{vbar_chart(nudge_bars, title="Answer rate by number of nudges")}'
        f'<p class="note">Answer rate of first mails and of the 1st, 2nd, 3rd+ nudge sent without an answer.</p>{answers_note}</div>'
    )

    finding_rows = []
    for i, row in enumerate(rows):
        if row.findings:
            finding_rows.append(
                f'<tr {_row_attrs(i, row)}><td>{escape(row.date[:10])}</td><td>{escape(row.to)}</td>'
                f'<td><a href="#all-{i}">{escape(row.subject or "(no subject)")}</a></td><td>{_tags(row)}</td>'
                f'<td class="num">{row.personalization.score}</td><td>{_answered(row)}</td><td class="mid">{_mid_link(row)}</td></tr>')
    findings_table = (
        '<table id="findings-table"><thead><tr><th>Date</th><th>To</th><th>Subject</th><th>Findings</th><th>Personal</th>'
        f'<th>Answered</th><th>Message-ID</th></tr></thead><tbody>{"".join(finding_rows)}</tbody></table>'
        if finding_rows else '<p id="findings-table">No findings: nothing slipped through.</p>'
    )
    all_rows = "".join(
        f'<tr id="all-{i}" data-message-id="{escape(row.message_id, quote=True)}"><td>{escape(row.date[:10])}</td>'
        f'<td>{escape(row.to)}</td><td>{escape(row.subject)}</td><td>{escape(row.label)}</td>'
        f'<td class="num">{row.personalization.score}<div class="basis">{"<br>".join(map(escape, row.personalization.basis))}</div></td>'
        f'<td>{_family_cell(row)}</td><td>{_answered(row)}</td>'
        f'<td class="mid">{_mid_link(row)}</td></tr>'
        for i, row in enumerate(rows)
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1><p class=\"sub\">{t.messages} outgoing messages from {escape(sent_from or 'Sent')}, {escape(span)}; "
        f"{inbox_note}{other_note}. Made by pitchsort on {generated}.</p>"
        f'<section class="cards">{card_html}</section><section class="charts">{charts}</section>'
        f'<section class="panel" id="findings"><h2>Findings, message by message</h2>{findings_table}</section>'
        f'<section class="panel" id="messages"><details><summary><b>All {t.messages} messages</b> with the personalization score '
        f'and what it rests on</summary><table><thead><tr><th>Date</th><th>To</th><th>Subject</th><th>Label</th><th>Personal</th>'
        f"<th>Template</th><th>Answered</th><th>Message-ID</th></tr></thead><tbody>{all_rows}</tbody></table></details></section>"
        "</main></body></html>\n"
    )
