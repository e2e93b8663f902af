"""A realistic support day, played into the HubSpot emulator between daemon cycles.

Morning: tickets arrive, some from live chats (contacts and anonymous visitors) with a
welcome message and the customer's first words. Later: agents reply, leave internal
comments, customers follow up (some of them escalating), tickets move to "Waiting on us"
and get closed; one closed ticket is reopened. KB articles are published (one stays a
draft) and one is edited. Every count the demo reports is checked against what this
module says it seeded (``Seeded``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import sentiment as sentiment_model

CALM = ["Thanks, that helps. One more question about the export.",
        "Great, I appreciate the quick answer!",
        "Could you also check the invoice from last month?",
        "Ok, I will try that and get back to you."]
ESCALATING = ["This is unacceptable. I want a refund and to speak to a manager.",
              "Third time this week. I will cancel and file a complaint, this is unacceptable.",
              "Your service is terrible. Escalate this to your supervisor or I cancel today."]
AGENT_REPLIES = ["Thanks for reaching out! I am looking into this now.",
                 "I have forwarded this to our billing team, you will hear back today.",
                 "Could you send a screenshot of the error?"]
COMMENTS = ["Customer is on the Pro plan, check the upgrade history.",
            "Possible duplicate of the outage ticket from this morning."]
KB_ARTICLES = [
    ("How to reset your password", "<p>Open <b>Settings → Security</b> and choose "
     "<em>Reset password</em>. The link is valid for 24 hours.</p>", ("account",)),
    ("Understanding your invoice", "<p>Each invoice lists seats, add-ons and VAT.</p>",
     ("billing",)),
    ("Requesting a refund", "<p>Refunds for annual plans are prorated.</p>", ("billing",)),
    ("Fixing API 500 errors", "<p>Retry with backoff; check the status page.</p>",
     ("technical", "api")),
    ("Setting up two-factor authentication", "<p>Use any TOTP app.</p>", ("account",)),
    ("Exporting data to CSV", "<p>Dashboard → Export → CSV.</p>", ("feature",)),
    ("Connecting Zapier", "<p>Use the Zapier integration from the marketplace.</p>",
     ("integrations",)),
]
DRAFT_ARTICLE = ("Upcoming: dark mode", "<p>Not published yet.</p>", ("feature",))


@dataclass
class Seeded:
    """What the day put into HubSpot, to compare with what the daemon did."""

    tickets: list[str] = field(default_factory=list)
    threads: dict[str, str] = field(default_factory=dict)       # ticket id → thread id
    contacts: set[str] = field(default_factory=set)             # real contacts that wrote
    visitor_threads: int = 0
    customer_messages: int = 0
    other_messages: int = 0                                     # agent, comment, welcome
    escalating_tickets: set[str] = field(default_factory=set)   # a message at risk ≥ 0.5
    waiting_on_us: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    reopened: set[str] = field(default_factory=set)
    kb_published: int = 0
    kb_edited: int = 0


def customer_says(emu: HubSpotEmulator, seeded: Seeded, ticket_id: str, thread: str,
                  text: str) -> None:
    """A customer message; the stand-in's own documented model says whether it escalates."""
    emu.add_message(thread, text=text, direction="INCOMING")
    seeded.customer_messages += 1
    if sentiment_model.analyse(text)["escalation_risk"] >= sentiment_model.ALERT_THRESHOLD:
        seeded.escalating_tickets.add(ticket_id)


def morning_chats(emu: HubSpotEmulator, tickets: list[str], seeded: Seeded,
                  rng: random.Random) -> None:
    """About a quarter of the tickets came from a live chat or an email thread."""
    for i, ticket_id in enumerate(tickets[: max(4, len(tickets) // 4)]):
        props = emu.ticket(ticket_id)
        visitor = i % 7 == 3
        if visitor:
            thread = emu.seed_thread(visitor_id=str(880000 + i), ticket_id=ticket_id,
                                     channel_id="1000")
            seeded.visitor_threads += 1
        else:
            contact = emu.seed_contact({"firstname": f"Customer{i}", "lastname": "Demo",
                                        "email": f"customer{i}@example.com"})
            thread = emu.seed_thread(contact_id=contact, ticket_id=ticket_id,
                                     channel_id=rng.choice(["1000", "1002"]))
            seeded.contacts.add(contact)
        seeded.threads[ticket_id] = thread
        emu.add_message(thread, type="WELCOME_MESSAGE",
                        text="Hi! How can we help you today?")
        customer_says(emu, seeded, ticket_id, thread, f"{props['subject']}\n\n{props['content']}")
        seeded.other_messages += 1


def afternoon(emu: HubSpotEmulator, seeded: Seeded, rng: random.Random) -> None:
    """Agents answer, customers follow up, tickets move through the pipeline."""
    chats = list(seeded.threads.items())
    for i, (ticket_id, thread) in enumerate(chats):
        emu.add_message(thread, text=rng.choice(AGENT_REPLIES), direction="OUTGOING",
                        sender="A-9101")
        seeded.other_messages += 1
        if i % 3 == 0:
            emu.add_message(thread, type="COMMENT", text=rng.choice(COMMENTS), sender="A-9102")
            seeded.other_messages += 1
        customer_says(emu, seeded, ticket_id, thread,
                      rng.choice(ESCALATING if i % 4 == 1 else CALM))
    rest = [t for t in seeded.tickets if t not in seeded.threads]
    movers = seeded.tickets[::5]
    for ticket_id in movers[: len(movers) // 2]:
        emu.touch_ticket(ticket_id, {"hs_pipeline_stage": "3"})
        seeded.waiting_on_us.add(ticket_id)
    for ticket_id in list(seeded.threads)[: max(2, len(seeded.threads) // 3)] + rest[1::9]:
        if ticket_id in seeded.waiting_on_us:
            continue
        emu.touch_ticket(ticket_id, {"hs_pipeline_stage": "4"})
        seeded.closed.add(ticket_id)


def evening(emu: HubSpotEmulator, seeded: Seeded) -> None:
    """A customer writes back on a closed ticket: it is reopened to "Waiting on us"."""
    ticket_id = sorted(seeded.closed)[0]
    emu.touch_ticket(ticket_id, {"hs_pipeline_stage": "3"})
    seeded.reopened.add(ticket_id)


def publish_kb(emu: HubSpotEmulator, seeded: Seeded) -> list[str]:
    ids = [emu.seed_kb_article(title, body, tags=tags) for title, body, tags in KB_ARTICLES]
    title, body, tags = DRAFT_ARTICLE
    emu.seed_kb_article(title, body, tags=tags, state="DRAFT")
    seeded.kb_published = len(ids)
    return ids


def edit_kb(emu: HubSpotEmulator, article_ids: list[str], seeded: Seeded) -> None:
    emu.update_kb_article(article_ids[0], body_html="<p>Open <b>Settings → Security</b>, "
                          "choose <em>Reset password</em>; links now last 48 hours.</p>")
    seeded.kb_edited = 1
