"""Realistic support tickets for the demo, the benchmark and the tests. Deterministic."""

from __future__ import annotations

import random
from dataclasses import dataclass

_PEOPLE = ["Maria", "Jonas", "Priya", "Tom", "Aiko", "Lena", "Omar", "Chloe", "Diego", "Sven"]
_PRODUCTS = ["Pro plan", "Team plan", "mobile app", "dashboard", "CSV export", "API",
             "Zapier integration", "billing portal"]

_TEMPLATES: list[tuple[str, str]] = [
    ("Charged twice for {product}",
     "Hi, I was charged twice this month for the {product}. Can you refund the duplicate "
     "payment asap? Invoice numbers are INV-{n} and INV-{m}."),
    ("Refund request for annual subscription",
     "Hello,\nI'd like a refund for my annual subscription; we switched providers. "
     "The payment went through on the {day}th."),
    ("Invoice shows the wrong VAT number",
     "Our invoice INV-{n} lists the wrong VAT number. Could you re-issue it? Thanks!"),
    ("{product} crashes on start",
     "Since the last update the {product} crashes immediately with an error (code E{n}). "
     "Reinstalling did not help."),
    ("API returns 500 on /orders",
     "Our integration gets HTTP 500 from the API on about 1 in 10 calls since this morning. "
     "Request ids: req-{n}, req-{m}."),
    ("Dashboard is very slow",
     "Loading the dashboard takes 40+ seconds for our team. Is there a known bug?"),
    ("Outage: nobody can log in",
     "URGENT: the whole team is down for everyone since 9:00, login page times out. "
     "This is a production outage for us."),
    ("Cannot reset my password",
     "The password reset email never arrives. I've checked spam. My username is {person}{n}."),
    ("Change the account email address",
     "Please change the email address on our account from old@example.com to "
     "billing@example.com."),
    ("2FA device lost",
     "I lost my phone and cannot log in with 2FA anymore. What can I do?"),
    ("Feature request: dark mode",
     "Would be nice to have a dark mode in the {product}. Just a suggestion, love the app!"),
    ("Could you add an export to Excel?",
     "Question: could you add an Excel export next to the CSV export? Is it on the roadmap?"),
    ("Question about team seats",
     "Just wondering how seats are counted when someone leaves the team."),
    ("Thanks for the quick help",
     "Great support yesterday from your team, thanks a lot. One more question about "
     "the {product}: where do I find the settings?"),
    ("Unacceptable service, I want to cancel",
     "This is unacceptable. Third time the {product} is broken this month. I want to cancel "
     "and speak to a manager."),
    ("Security concern: data visible to other users",
     "We noticed data from another customer in our export. This looks like a security breach, "
     "please escalate immediately."),
    ("Weird characters in <b>subject</b> & body",
     "Our template shows <script>alert(1)</script> & 'quotes' \"everywhere\" — "
     "is that expected? Tom & Jerry's team."),
]


@dataclass(frozen=True)
class SeedTicket:
    subject: str
    content: str
    source_type: str


def tickets(n: int, seed: int = 7) -> list[SeedTicket]:
    """``n`` varied tickets; every template appears when ``n`` ≥ the number of templates."""
    rng = random.Random(seed)
    out: list[SeedTicket] = []
    for i in range(n):
        subject, body = _TEMPLATES[i % len(_TEMPLATES)] if i < len(_TEMPLATES) else \
            rng.choice(_TEMPLATES)
        values = {"product": rng.choice(_PRODUCTS), "person": rng.choice(_PEOPLE).lower(),
                  "n": rng.randint(1000, 9999), "m": rng.randint(1000, 9999),
                  "day": rng.randint(1, 28)}
        greeting = rng.choice(["", "", f"{rng.choice(_PEOPLE)} here. "])
        signoff = rng.choice(["", "\n\nThanks", "\n\nBest regards", "\n\nCheers"])
        out.append(SeedTicket(subject.format(**values),
                              greeting + body.format(**values) + signoff,
                              rng.choice(["EMAIL", "EMAIL", "CHAT", "FORM", "PHONE"])))
    return out
