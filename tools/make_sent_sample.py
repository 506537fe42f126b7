# ruff: noqa: E501 - the hand-written mail keeps one paragraph per line, as a mail client sends it
"""Write data/sent_sample: a recruiter's Sent folder and Inbox for the audit demo.

Sofia Lindqvist recruits for Brygga Talent, an agency working across
Sweden, Norway, Denmark, the Netherlands, Germany and in English. Her Sent
folder holds mail-merged templates (with the slips such templates get: a raw
merge field, another person's name, another client's company, "Dear Hiring
Manager", a CV attached to a first contact), sequence nudges, mail she wrote
for one person, and her replies. Her Inbox holds the answers: threaded ones,
one that lost its threading headers, declines in four languages, and an
out-of-office that must not count as an answer.

Every text below was written by hand for this sample; only the MIME
wrapping, the merge of a template's fields and the one-page CV PDF are done
by code. Run it again to rewrite the files::

    .venv/bin/python tools/make_sent_sample.py
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "sent_sample"
CEST = timezone(timedelta(hours=2))
SOFIA = "Sofia Lindqvist <sofia.lindqvist@bryggatalent.se>"

SIGNATURE = {
    "sv": "Vänliga hälsningar\nSofia Lindqvist\nSenior rekryterare, Brygga Talent\n+46 70 412 88 19",
    "en": "Kind regards\nSofia Lindqvist\nSenior Recruiter, Brygga Talent\n+46 70 412 88 19",
    "de": "Viele Grüße\nSofia Lindqvist\nSenior Recruiterin, Brygga Talent\n+46 70 412 88 19",
    "nl": "Met vriendelijke groet\nSofia Lindqvist\nSenior recruiter, Brygga Talent\n+46 70 412 88 19",
    "nb": "Med vennlig hilsen\nSofia Lindqvist\nSenior rekrutterer, Brygga Talent\n+46 70 412 88 19",
    "da": "Venlig hilsen\nSofia Lindqvist\nSenior rekrutteringskonsulent, Brygga Talent\n+46 70 412 88 19",
}


@dataclass
class Mail:
    name: str
    when: datetime
    sender: str
    to: str
    subject: str
    body: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)

    @property
    def message_id(self) -> str:
        domain = self.sender.rpartition("@")[2].rstrip(">")
        return f"<{self.name}.{self.when:%Y%m%d%H%M}@{domain}>"


def at(day: int, hour: int, minute: int, month: int = 9) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CEST)


def quote(original: Mail, lang: str) -> str:
    """The original as a mail client quotes it below a reply."""
    header = {
        "sv": f"Den {original.when:%-d %b %Y} kl. {original.when:%H:%M} skrev {original.sender}:",
        "en": f"On {original.when:%a, %-d %b %Y} at {original.when:%H:%M}, {original.sender} wrote:",
        "de": f"Am {original.when:%d.%m.%Y} um {original.when:%H:%M} schrieb {original.sender}:",
        "nl": f"Op {original.when:%-d %b %Y} om {original.when:%H:%M} schreef {original.sender}:",
        "nb": f"Den {original.when:%-d %b %Y} kl. {original.when:%H:%M} skrev {original.sender}:",
        "da": f"Den {original.when:%-d %b %Y} kl. {original.when:%H:%M} skrev {original.sender}:",
    }[lang]
    return header + "\n" + "\n".join("> " + line if line else ">" for line in original.body.splitlines())


def reply(name: str, when: datetime, sender: str, to: Mail, body: str, lang: str, *, threaded: bool = True,
          subject_prefix: str = "Re: ", quoted: bool = True, headers: dict[str, str] | None = None) -> Mail:
    """An answer to ``to``: threading headers (unless lost), a reply subject and the quote below."""
    text = body + ("\n\n" + quote(to, lang) if quoted else "")
    subject = to.subject if to.subject.lower().startswith(("re:", "sv:", "aw:")) else subject_prefix + to.subject
    return Mail(name, when, sender, to.sender, subject, text,
                in_reply_to=to.message_id if threaded else "",
                references=(*to.references, to.message_id) if threaded else (), headers=headers or {})


def cv_pdf(title: str, lines: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, title + "\n\n" + "\n".join(lines))
    return bytes(pdf.output())


CV_DATA_ENGINEER = cv_pdf("Candidate profile - Senior Data Engineer (anonymised)", [
    "Experience",
    "2021-now  Lead data engineer, Nordic retail group: Kafka, dbt, Snowflake, 14 TB a day.",
    "2017-2021 Data engineer, payments scale-up: Python, Airflow, event sourcing.",
    "Education",
    "MSc Computer Science, Chalmers University of Technology, 2017.",
    "Skills",
    "Python, SQL, Kafka, dbt, Snowflake, Terraform. Swedish and English, some German.",
])


# ---------------------------------------------------------------------------------------------------------------------
# Template A (sv): headhunting backend developers for a fintech client, sent with a sequence tool.
# ---------------------------------------------------------------------------------------------------------------------
A_SUBJECT = "Senior backendutvecklare till fintech i Göteborg"
A_BODY = """Hej {first},

Jag heter Sofia och rekryterar på Brygga Talent. Just nu söker jag en senior backendutvecklare till en av våra kunder, ett växande fintechbolag i centrala Göteborg med runt 60 anställda.

Teamet bygger betalplattformen i Kotlin och Go på Kubernetes, jobbar i korta iterationer och har mycket frihet att välja arbetssätt. Lönen ligger mellan 65 000 och 78 000 kronor i månaden, och du jobbar hemifrån två dagar i veckan.

Din profil såg ut att passa bra, så jag ville höra om det kunde vara intressant att prata vidare. Har du tid för ett kort samtal på 15 minuter nästa vecka?

{signature}"""

NUDGE_A = """Hej {first},

Jag ville bara följa upp mitt förra mejl om rollen som senior backendutvecklare i Göteborg. Har du hunnit fundera på om det kan vara intressant?

Tjänsten är fortfarande öppen och kunden vill gärna träffa kandidater före slutet av månaden.

{signature}"""

LAST_NUDGE_A = """Hej {first},

En sista påminnelse från mig om fintechrollen i Göteborg. Jag förstår om tajmingen inte passar, men säg gärna till om du vill att jag hör av mig igen längre fram.

{signature}"""


def fill(template: str, lang: str, **fields: str) -> str:
    return template.format(signature=SIGNATURE[lang], **fields)


def sent_mail() -> tuple[list[Mail], dict[str, Mail]]:
    """Sofia's Sent folder, and the messages the Inbox answers, by name."""
    out: list[Mail] = []
    m: dict[str, Mail] = {}

    def add(mail: Mail) -> Mail:
        out.append(mail)
        m[mail.name] = mail
        return mail

    lemlist = {"X-Mailer": "lemlist"}
    # Maria gets Erik's greeting: the merge ran with the previous row's first name.
    for key, to, first, minute in (
        ("a1", "Erik Johansson <erik.johansson@kvarnbydata.se>", "Erik", 2),
        ("a2", "Linnea Ek <linnea.ek@gmail.com>", "Linnea", 4),
        ("a3", "Johan Berglund <johan.berglund@outlook.com>", "[Förnamn]", 6),
        ("a4", "Maria Sandberg <maria.sandberg@telia.com>", "Erik", 8),
        ("a5", "Oskar Nyström <oskar.nystrom@gmail.com>", "Oskar", 10),
    ):
        add(Mail(f"sent-sv-{key}", at(14, 9, minute), SOFIA, to, A_SUBJECT, fill(A_BODY, "sv", first=first), headers=lemlist))
    for key, original, first, day in (("a1", "a1", "Erik", 21), ("a3", "a3", "Johan", 21), ("a4", "a4", "Maria", 21),
                                      ("a2", "a2", "Linnea", 22)):
        first_mail = m[f"sent-sv-{original}"]
        add(Mail(f"sent-sv-{key}-nudge1", at(day, 9, 5), SOFIA, first_mail.to, "Re: " + A_SUBJECT, fill(NUDGE_A, "sv", first=first),
                 in_reply_to=first_mail.message_id, references=(first_mail.message_id,), headers=lemlist))
    nudge = m["sent-sv-a1-nudge1"]
    add(Mail("sent-sv-a1-nudge2", at(28, 9, 5), SOFIA, nudge.to, "Re: " + A_SUBJECT, fill(LAST_NUDGE_A, "sv", first="Erik"),
             in_reply_to=nudge.message_id, references=(m["sent-sv-a1"].message_id, nudge.message_id), headers=lemlist))

    # -----------------------------------------------------------------------------------------------------------------
    # Template B (en): a candidate presented "blind" to client HR leads, CV attached. Ingrid's copy still names
    # Molenwerf (the row before hers); Thomas gets "Dear Hiring Manager" because his first name was missing in the sheet.
    # -----------------------------------------------------------------------------------------------------------------
    b_subject = "Senior data engineer available from November"
    b_body = """{greeting},

I hope this finds you well. I am reaching out because I am working with an excellent senior data engineer who is open to a new challenge from November, and I believe {company} could be a great match.

She has seven years of experience building streaming pipelines with Kafka, dbt and Snowflake, most recently as lead engineer for a Nordic retail group processing 14 TB a day. She is based in Gothenburg, happy to travel and fluent in English and Swedish.

I have attached her anonymised profile. If it looks interesting, I would be glad to set up an introduction this week or next.

{signature}"""
    cv = [("CV_Senior_Data_Engineer.pdf", "application/pdf", CV_DATA_ENGINEER)]
    for key, to, greeting, company, minute in (
        ("b1", "Karin Berg <karin.berg@nordvik.se>", "Hi Karin", "Nordvik", 31),
        ("b2", "Pieter de Vries <pieter.devries@molenwerf.nl>", "Hi Pieter", "Molenwerf", 33),
        ("b3", "Ingrid Hansen <ingrid.hansen@fjellkraft.no>", "Hi Ingrid", "Molenwerf", 35),
        ("b4", "Thomas Weber <thomas.weber@rheinblick.de>", "Dear Hiring Manager", "Rheinblick", 37),
        ("b5", "Lars Holm <lars.holm@havnegaard.dk>", "Hi Lars", "Havnegaard", 39),
    ):
        add(Mail(f"sent-en-{key}", at(15, 10, minute), SOFIA, to, b_subject,
                 fill(b_body, "en", greeting=greeting, company=company), attachments=cv))

    # -----------------------------------------------------------------------------------------------------------------
    # Template C (de): an SAP consultant role; Jonas's copy went out with the raw merge field.
    # -----------------------------------------------------------------------------------------------------------------
    c_subject = "Spannende Position als SAP-FI/CO-Berater in München"
    c_body = """Hallo {first},

ich bin Sofia von Brygga Talent und unterstütze derzeit ein mittelständisches Beratungshaus in München bei der Suche nach einem SAP-FI/CO-Berater.

Sie würden S/4HANA-Einführungen bei Kunden aus Industrie und Handel begleiten, mit maximal zwei Tagen Reisetätigkeit pro Woche. Das Gehalt liegt zwischen 85.000 und 100.000 Euro, dazu kommen ein Dienstwagen und 30 Urlaubstage.

Ihr Profil hat mich neugierig gemacht. Hätten Sie in den nächsten Tagen Zeit für ein kurzes Telefonat?

{signature}"""
    for key, to, first, minute in (
        ("c1", "Lukas Schneider <lukas.schneider@web.de>", "Lukas", 12),
        ("c2", "Anna Fischer <anna.fischer@gmx.de>", "Anna", 14),
        ("c3", "Jonas Becker <jonas.becker@t-online.de>", "{{first_name}}", 16),
    ):
        add(Mail(f"sent-de-{key}", at(16, 8, minute), SOFIA, to, c_subject, fill(c_body, "de", first=first), headers=lemlist))
    c2 = m["sent-de-c2"]
    add(Mail("sent-de-c2-nudge1", at(24, 8, 30), SOFIA, c2.to, "Re: " + c_subject, fill("""Hallo Anna,

ich wollte kurz nachfragen, ob Sie meine letzte E-Mail zur Position als SAP-Berater in München gesehen haben. Der Kunde hat die Stelle gerade noch einmal aufgewertet, mit einem höheren Budget und der Option auf Teilzeit.

Passt Ihnen ein kurzer Anruf am Donnerstag?

{signature}""", "de"), in_reply_to=c2.message_id, references=(c2.message_id,), headers=lemlist))

    # -----------------------------------------------------------------------------------------------------------------
    # Template D (nl): a construction project lead; Noor's copy opens with "Beste lezer".
    # -----------------------------------------------------------------------------------------------------------------
    d_subject = "Vacature: projectleider bouw in Utrecht"
    d_body = """{greeting},

Mijn naam is Sofia Lindqvist van Brygga Talent. Voor een bouwbedrijf in Utrecht met zo'n 120 medewerkers zoek ik een ervaren projectleider voor woningbouwprojecten van 40 tot 200 woningen.

Je bent verantwoordelijk voor planning, budget en de aansturing van onderaannemers, en je werkt nauw samen met de ontwikkelaar. Het salaris ligt tussen 5.200 en 6.400 euro per maand, met een leaseauto en een goede pensioenregeling.

Zou je openstaan voor een vrijblijvend gesprek van een kwartier?

{signature}"""
    for key, to, greeting, minute in (
        ("d1", "Sanne Jansen <sanne.jansen@ziggo.nl>", "Beste Sanne", 40),
        ("d2", "Daan Bakker <daan.bakker@kpnmail.nl>", "Beste Daan", 42),
        ("d3", "Noor Visser <noor.visser@gmail.com>", "Beste lezer", 44),
    ):
        add(Mail(f"sent-nl-{key}", at(17, 13, minute), SOFIA, to, d_subject, fill(d_body, "nl", greeting=greeting)))

    # -----------------------------------------------------------------------------------------------------------------
    # Template E (nb): warehouse staff offered to client companies.
    # -----------------------------------------------------------------------------------------------------------------
    e_subject = "Erfarne lagermedarbeidere til høstsesongen"
    e_body = """Hei {first},

Høsten er travel for mange lagre, og jeg vil gjerne høre om {company} trenger flere folk i ukene fremover.

Vi har akkurat nå 25 erfarne lagermedarbeidere og truckførere i Oslo-området som kan starte på kort varsel, både på dagtid og kveldsskift. Alle har gyldig truckførerbevis, og vi tar oss av lønn, forsikring og oppfølging.

Har du ti minutter til en prat denne uken?

{signature}"""
    for key, to, first, company, minute in (
        ("e1", "Kari Olsen <kari.olsen@vestfold-energi.no>", "Kari", "Vestfold Energi", 20),
        ("e2", "Bjørn Strand <bjorn.strand@nordlyshavn.no>", "Bjørn", "Nordlyshavn", 22),
    ):
        add(Mail(f"sent-nb-{key}", at(18, 9, minute), SOFIA, to, e_subject, fill(e_body, "nb", first=first, company=company)))
    e2 = m["sent-nb-e2"]
    add(Mail("sent-nb-e2-nudge1", at(25, 9, 0), SOFIA, e2.to, "Re: " + e_subject, fill("""Hei Bjørn,

Jeg følger opp min forrige e-post om lagermedarbeidere. Vi har fått inn fem nye truckførere denne uken, så vi kan dekke både helger og kveldsskift hvis dere trenger det.

Skal jeg sende deg noen profiler?

{signature}""", "nb"), in_reply_to=e2.message_id, references=(e2.message_id,)))

    # -----------------------------------------------------------------------------------------------------------------
    # Template F (da): a controller role in Aarhus; Jens says no and Sofia answers politely (no nudge).
    # -----------------------------------------------------------------------------------------------------------------
    f_subject = "Stilling som controller i Aarhus"
    f_body = """Hej {first},

Jeg hedder Sofia og arbejder som rekrutteringskonsulent hos Brygga Talent. Lige nu hjælper jeg en dansk fødevarevirksomhed i Aarhus med at finde en controller til deres økonomiafdeling.

Du vil stå for budgetopfølgning, månedsrapportering og analyser til ledelsen, i et team på seks personer. Virksomheden tilbyder fleksible arbejdstider, pension og mulighed for at arbejde hjemme en dag om ugen.

Kunne det være interessant for dig at høre mere?

{signature}"""
    for key, to, first, minute in (
        ("f1", "Mette Nielsen <mette.nielsen@gmail.com>", "Mette", 10),
        ("f2", "Jens Larsen <jens.larsen@mail.dk>", "Jens", 12),
        ("f3", "Sofie Holm <sofie.holm@jubii.dk>", "Sofie", 14),
    ):
        add(Mail(f"sent-da-{key}", at(22, 14, minute), SOFIA, to, f_subject, fill(f_body, "da", first=first)))

    # -----------------------------------------------------------------------------------------------------------------
    # Personal mail: written for one person each.
    # -----------------------------------------------------------------------------------------------------------------
    add(Mail("sent-sv-p1", at(23, 11, 17), SOFIA, "Karl Åberg <karl.aberg@solberga.se>", "Ert nya lager i Umeå", fill("""Hej Karl,

Jag läste ditt inlägg om att Solberga öppnar lagret på Västerslätt i Umeå i februari, grattis! Du skrev att ni vill ha en lagerchef på plats redan i december som kan vara med och rekrytera resten av skiftlagen.

Förra året hjälpte jag Norrlandsfrakt med nästan samma sak i Sundsvall, och jag har två personer i tankarna som båda har startat upp lager från noll och bor i Umeå. Ingen av dem söker aktivt, så jag har inte skickat några profiler.

Vore det värt en halvtimme att gå igenom vad lagerchefen ska klara de första månaderna? Jag är i Umeå den 6 oktober och kan gärna komma förbi.

{signature}""", "sv")))
    add(Mail("sent-en-p1", at(23, 16, 40), SOFIA, "Emma Clarke <emma.clarke@gmail.com>", "Your talk on data contracts at PyData Gothenburg",
             fill("""Hi Emma,

I was in the audience for your talk on data contracts at PyData Gothenburg on Thursday. The part about getting product teams to own their schemas, and the failed first attempt you were so honest about, was the most useful thing I heard all evening.

One of my clients, a logistics company in Mölndal, is starting exactly that journey and is looking for someone to lead their data platform team. It is a small team of four, and they would rather have someone who has seen it go wrong once than someone with a perfect CV.

I do not know whether you are even open to a move, so no pressure at all. Would you be up for a coffee near Järntorget next week, either way?

{signature}""", "en")))
    add(Mail("sent-nl-p1", at(24, 15, 5), SOFIA, "Lotte Dijkstra <lotte.dijkstra@amstelhof.nl>", "Ons gesprek over de teamleider onderhoud",
             fill("""Hoi Lotte,

Dank je wel voor het gesprek van dinsdag in Amstelveen, en voor de rondleiding door de nieuwe werkplaats. Ik heb goed genoteerd dat de teamleider onderhoud vooral iemand moet zijn die de monteurs meekrijgt bij de overstap naar planmatig onderhoud, en dat ervaring met de oude installaties minder zwaar weegt.

Ik ga deze week in mijn netwerk rond en stuur je uiterlijk woensdag een korte lijst met twee of drie namen, met bij elke naam waarom ik denk dat die persoon bij jullie team past.

Zal ik Maarten van jullie technische dienst ook meenemen in de mail, zoals je voorstelde?

{signature}""", "nl")))
    add(Mail("sent-nb-p1", at(24, 19, 12), SOFIA, "Henrik Dahl <henrik.dahl@gmail.com>", "Hilsen fra Ida Moen",
             fill("""Hei Henrik,

Ida Moen ga meg navnet ditt etter at vi snakket sammen i Bergen forrige uke. Hun fortalte at du bygde opp vedlikeholdsplanleggingen på Mongstad og at du kanskje vil tilbake til Stavanger-området neste år.

Jeg jobber med et rederi i Stavanger som skal ansette en vedlikeholdssjef for seks forsyningsskip. De vil ha noen som har vært ute på sokkelen selv og som kan snakke med både mannskap og ledelse.

Har du lyst til å ta en uforpliktende prat på telefon en kveld denne uken? Jeg kan fortelle mer om rederiet, og du kan fortelle hva som er viktig for deg.

{signature}""", "nb")))
    add(Mail("sent-da-p1", at(25, 10, 2), SOFIA, "Astrid Skov <astrid.skov@skovlund.dk>", "Jeres nye lønchef",
             fill("""Hej Astrid,

Tak for en god snak på HR-messen i Odense i torsdags. Du nævnte, at Skovlund skal have en ny lønchef, når Birgit går på pension til marts, og at det er svært at finde nogen, der både kender Danløn og har ledet et lille team.

Jeg har netop afsluttet en lignende proces for en virksomhed i Vejle og har stadig god kontakt til to stærke kandidater, der ikke fik jobbet dengang.

Skal vi tage en halv time i næste uge, hvor du fortæller lidt mere om teamet, før jeg kontakter dem?

{signature}""", "da")))
    p_da = m["sent-da-p1"]
    add(Mail("sent-da-p1-nudge1", at(2, 9, 30, 10), SOFIA, p_da.to, "Re: " + p_da.subject, fill("""Hej Astrid,

Jeg ville bare følge op på min mail fra sidste uge om lønchefen. Den ene af de to kandidater har fået et andet tilbud, så hvis du vil nå at møde hende, er det nok værd at tale sammen snart.

Passer det dig med et opkald mandag eller tirsdag?

{signature}""", "da"), in_reply_to=p_da.message_id, references=(p_da.message_id,)))
    add(Mail("sent-de-p1", at(29, 14, 45), SOFIA, "Felix Koch <felix.koch@elbtal-software.de>", "Ihre Suche nach einem Teamlead Mobile",
             fill("""Hallo Herr Koch,

auf der Seite von Elbtal Software habe ich gesehen, dass Sie seit drei Monaten einen Teamlead Mobile für Dresden suchen und die Anzeige inzwischen um Remote-Arbeit ergänzt haben.

Ich habe im Frühjahr für ein Fintech in Leipzig eine ähnliche Rolle besetzt und dabei zwei sehr gute Kandidatinnen kennengelernt, die am Ende knapp nicht zum Zug kamen. Beide haben Flutter-Teams geführt und kommen aus der Region.

Darf ich Sie kurz anrufen und fragen, woran die Suche bisher gescheitert ist? Dann kann ich besser einschätzen, ob ich Ihnen wirklich weiterhelfen kann.

{signature}""", "de")))
    return out, m


def inbox_and_replies(m: dict[str, Mail]) -> tuple[list[Mail], list[Mail]]:
    """The Inbox, and Sofia's replies to it (which go to her Sent folder)."""
    inbox: list[Mail] = []
    sent: list[Mail] = []
    inbox.append(reply("inbox-sv-linnea", at(14, 20, 31), "Linnea Ek <linnea.ek@gmail.com>", m["sent-sv-a2"], """Hej Sofia,

Tack för att du hörde av dig, men nej tack. Jag trivs väldigt bra där jag är och är inte intresserad av att byta jobb just nu.

Hälsningar
Linnea""", "sv"))
    oskar = reply("inbox-sv-oskar", at(15, 7, 48), "Oskar Nyström <oskar.nystrom@gmail.com>", m["sent-sv-a5"], """Hej Sofia!

Spännande, det låter som en roll jag skulle vilja veta mer om. Jag har jobbat med Go i fyra år och har funderat på att byta till något mindre bolag. Torsdag efter lunch passar mig bra för ett samtal.

/Oskar""", "sv")
    inbox.append(oskar)
    sent.append(reply("sent-sv-reply-oskar", at(15, 8, 20), SOFIA, oskar, fill("""Hej Oskar,

Vad roligt att höra! Jag ringer dig på torsdag klockan 13.15 på numret i din signatur, säg till om en annan tid passar bättre. Innan dess skickar jag en kort beskrivning av teamet och hur deras rekryteringsprocess ser ut.

{signature}""", "sv"), "sv"))
    inbox.append(reply("inbox-sv-erik", at(29, 12, 3), "Erik Johansson <erik.johansson@kvarnbydata.se>", m["sent-sv-a1-nudge2"], """Hej Sofia,

Förlåt för det sena svaret, det har varit en intensiv månad med en release. Jag är faktiskt nyfiken på rollen. Kan du berätta mer om hur teamet är organiserat och om det finns jour?

Mvh
Erik""", "sv"))
    inbox.append(reply("inbox-en-lars", at(15, 14, 12), "Lars Holm <lars.holm@havnegaard.dk>", m["sent-en-b5"], """Hi Sofia,

Thanks for thinking of us, but we are not interested at the moment. We filled our data roles in the summer.

Best,
Lars""", "en"))
    pieter = reply("inbox-en-pieter", at(16, 9, 2), "Pieter de Vries <pieter.devries@molenwerf.nl>", m["sent-en-b2"], """Hi Sofia,

Good timing. We are about to open a data engineering role in Rotterdam and her profile looks relevant. Would she consider working from Rotterdam two days a week? If so, I would like to speak with her next week.

Regards,
Pieter""", "en")
    inbox.append(pieter)
    sent.append(reply("sent-en-reply-pieter", at(16, 10, 15), SOFIA, pieter, fill("""Hi Pieter,

Great to hear. I spoke with her this morning, and two days a week in Rotterdam works for her as long as the other days can be remote. She is free on Tuesday and Wednesday afternoon next week; which suits you best?

{signature}""", "en"), "en"))
    inbox.append(reply("inbox-de-anna", at(16, 18, 40), "Anna Fischer <anna.fischer@gmx.de>", m["sent-de-c2"], """Hallo Frau Lindqvist,

vielen Dank für Ihre Nachricht. Ich habe aber kein Interesse an einem Wechsel und möchte Sie bitten, mich nicht weiter zu kontaktieren.

Viele Grüße
Anna Fischer""", "de"))
    # Daan answers from a webmail that drops the threading headers: only the subject ties it to Sofia's mail.
    inbox.append(reply("inbox-nl-daan", at(18, 8, 55), "Daan Bakker <daan.bakker@kpnmail.nl>", m["sent-nl-d2"], """Hallo Sofia,

Bedankt voor je bericht, maar ik heb geen interesse. Ik ben net begonnen bij een nieuwe werkgever.

Groet,
Daan""", "nl", threaded=False, quoted=False))
    inbox.append(reply("inbox-nl-sanne-auto", at(17, 13, 41), "Sanne Jansen <sanne.jansen@ziggo.nl>", m["sent-nl-d1"], """Bedankt voor je bericht. Ik ben met vakantie tot en met 4 oktober en lees mijn mail niet. Voor dringende zaken kun je bellen met het algemene nummer.""",
                       "nl", subject_prefix="Automatisch antwoord: ", quoted=False, headers={"Auto-Submitted": "auto-replied"}))
    inbox.append(reply("inbox-nb-bjorn", at(18, 15, 20), "Bjørn Strand <bjorn.strand@nordlyshavn.no>", m["sent-nb-e2"], """Hei,

Nei takk, vi har faste avtaler med et bemanningsbyrå og har ikke behov for flere.

Bjørn""", "nb"))
    jens = reply("inbox-da-jens", at(22, 17, 5), "Jens Larsen <jens.larsen@mail.dk>", m["sent-da-f2"], """Hej Sofia,

Nej tak, det lyder som en fin stilling, men jeg er lige blevet forfremmet og bliver, hvor jeg er.

Mvh
Jens""", "da")
    inbox.append(jens)
    sent.append(reply("sent-da-reply-jens", at(23, 8, 10), SOFIA, jens, fill("""Hej Jens,

Tak for dit svar, og tillykke med forfremmelsen! Jeg noterer, at du ikke søger lige nu, og skriver ikke igen om denne stilling.

{signature}""", "da"), "da"))
    inbox.append(reply("inbox-sv-karl", at(24, 7, 30), "Karl Åberg <karl.aberg@solberga.se>", m["sent-sv-p1"], """Hej Sofia,

Bra fångat, det stämmer att vi vill ha lagerchefen på plats i december. Den 6 oktober fungerar, kom förbi klockan tio så tar vi en kaffe på plats i Umeå.

Karl""", "sv"))
    inbox.append(reply("inbox-en-emma", at(24, 21, 14), "Emma Clarke <emma.clarke@gmail.com>", m["sent-en-p1"], """Hi Sofia,

Thank you, that is kind of you to say! I am not actively looking, but a coffee sounds nice and I am curious about the team. Wednesday at 8:30 near Järntorget?

Emma""", "en"))
    inbox.append(reply("inbox-nb-henrik", at(25, 20, 2), "Henrik Dahl <henrik.dahl@gmail.com>", m["sent-nb-p1"], """Hei Sofia,

Hyggelig at Ida tipset deg. Ja, vi vurderer å flytte hjem til Stavanger til sommeren, så jeg vil gjerne høre mer. Ring meg gjerne torsdag etter klokken sju.

Henrik""", "nb"))
    inbox.append(reply("inbox-de-felix", at(30, 9, 12), "Felix Koch <felix.koch@elbtal-software.de>", m["sent-de-p1"], """Hallo Frau Lindqvist,

danke für die ehrliche Frage. Gerne, rufen Sie mich morgen zwischen 10 und 12 Uhr an, dann erzähle ich Ihnen, wo es bisher gehakt hat.

Beste Grüße
Felix Koch""", "de"))
    return inbox, sent


def to_bytes(mail: Mail) -> bytes:
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.when)
    msg["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
        msg["References"] = " ".join(mail.references)
    for key, value in mail.headers.items():
        msg[key] = value
    msg.set_content(mail.body + "\n")
    for filename, ctype, data in mail.attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(msg)


def main() -> None:
    sent, by_name = sent_mail()
    inbox, replies = inbox_and_replies(by_name)
    for folder, mails in (("sent", [*sent, *replies]), ("inbox", inbox)):
        target = OUT / folder
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for mail in mails:
            (target / f"{mail.name}.eml").write_bytes(to_bytes(mail))
    print(f"wrote {len(sent) + len(replies)} sent and {len(inbox)} inbox messages to {OUT}")


if __name__ == "__main__":
    main()
