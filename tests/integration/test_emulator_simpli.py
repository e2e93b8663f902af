"""The Simpli stand-ins over real HTTP: shared contract, strict validation, knobs, each service."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import requests

from hubsync.emulators.simpli import (
    KBStandIn,
    QAStandIn,
    RecordedCall,
    ReplyStandIn,
    SentimentStandIn,
    SimpliStandIns,
    TriageStandIn,
)

CLASSIFY = {
    "subject": "Charged twice for my subscription",
    "body": "I was charged twice and need a refund. Please fix this ASAP.",
}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def stand_ins() -> Iterator[SimpliStandIns]:
    with SimpliStandIns() as started:
        yield started


@pytest.fixture
def keyed() -> Iterator[TriageStandIn]:
    with TriageStandIn(api_key="s3cret") as started:
        yield started


def post(http: requests.Session, url: str, body: Any, **kwargs: Any) -> requests.Response:
    return http.post(url, json=body, timeout=5, **kwargs)


class TestSharedBehaviour:
    def test_health_needs_no_key(self, http: requests.Session, keyed: TriageStandIn) -> None:
        """/health answers ok even when a key is configured and none is sent."""
        response = http.get(f"{keyed.base_url}/health", timeout=5)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    @pytest.mark.parametrize(
        "headers",
        [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer s3cret"}],
        ids=["missing", "wrong", "bearer"],
    )
    def test_requests_without_the_key_are_401(
        self, http: requests.Session, keyed: TriageStandIn, headers: dict[str, str]
    ) -> None:
        """Without the exact X-API-Key header (a Bearer token does not count) the answer is 401."""
        response = post(
            http, f"{keyed.base_url}/classify", CLASSIFY, headers={**headers, "X-Request-ID": "r-1"}
        )
        assert response.status_code == 401
        assert response.json() == {
            "error_code": "AUTHENTICATION_ERROR",
            "detail": "Invalid or missing API key",
            "request_id": "r-1",
        }

    def test_the_key_lets_requests_through(
        self, http: requests.Session, keyed: TriageStandIn
    ) -> None:
        """With X-API-Key set to the configured key the service answers."""
        response = post(
            http, f"{keyed.base_url}/classify", CLASSIFY, headers={"X-API-Key": "s3cret"}
        )
        assert response.status_code == 200

    def test_request_id_is_echoed(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """A client's X-Request-ID comes back in the header and in error envelopes."""
        url = f"{stand_ins.urls['triage']}/classify"
        ok = post(http, url, CLASSIFY, headers={"X-Request-ID": "req-123"})
        bad = post(http, url, {}, headers={"X-Request-ID": "req-456"})
        assert ok.headers["X-Request-ID"] == "req-123"
        assert (bad.headers["X-Request-ID"], bad.json()["request_id"]) == ("req-456", "req-456")

    def test_request_id_is_generated(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """Without X-Request-ID the service makes one and uses it in header and envelope."""
        response = post(http, f"{stand_ins.urls['sentiment']}/analyze", {})
        assert response.headers["X-Request-ID"]
        assert response.json()["request_id"] == response.headers["X-Request-ID"]

    def test_unknown_path_is_404_and_wrong_method_405(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """Unknown paths answer 404 NOT_FOUND; a known path with the wrong method answers 405."""
        missing = http.get(f"{stand_ins.urls['triage']}/nope", timeout=5)
        wrong = http.get(f"{stand_ins.urls['triage']}/classify", timeout=5)
        assert (missing.status_code, missing.json()["error_code"]) == (404, "NOT_FOUND")
        assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")

    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            (b'{"subject": "x", ', "application/json"),
            (b"[1, 2]", "application/json"),
            (b'{"subject": NaN, "body": ""}', "application/json"),
            (b'{"subject": "x", "body": ""}', "text/plain"),
            (b"", "application/json"),
        ],
        ids=["truncated", "not-an-object", "nan", "text-plain", "empty"],
    )
    def test_bodies_that_are_not_a_json_object_are_422(
        self, http: requests.Session, stand_ins: SimpliStandIns, data: bytes, content_type: str
    ) -> None:
        """Malformed JSON, non-objects, NaN, non-JSON media types and empty bodies are 422."""
        response = http.post(
            f"{stand_ins.urls['triage']}/classify",
            data=data,
            timeout=5,
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 422
        assert response.json()["error_code"] == "VALIDATION_ERROR"
        assert response.json()["errors"][0]["field"] == "body"

    def test_unknown_fields_are_ignored(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """Extra fields in a request do not make it fail."""
        response = post(http, f"{stand_ins.urls['triage']}/classify", {**CLASSIFY, "priority": 3})
        assert response.status_code == 200

    def test_calls_are_recorded(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """Every request is recorded with its parsed body, status and request id."""
        post(http, f"{stand_ins.urls['triage']}/classify", CLASSIFY, headers={"X-Request-ID": "a"})
        post(http, f"{stand_ins.urls['triage']}/classify", {}, headers={"X-Request-ID": "b"})
        assert stand_ins.triage.calls == [
            RecordedCall("POST", "/classify", CLASSIFY, 200, "a"),
            RecordedCall("POST", "/classify", {}, 422, "b"),
        ]
        assert (stand_ins.triage.count("/classify"), stand_ins.triage.count("/route")) == (2, 0)

    def test_latency_delays_answers(self, http: requests.Session) -> None:
        """latency_s is slept before each answer."""
        with TriageStandIn(latency_s=0.2) as slow:
            started = time.monotonic()
            post(http, f"{slow.base_url}/classify", CLASSIFY)
            assert time.monotonic() - started >= 0.2

    def test_stop_closes_connections_and_start_rebinds(self, http: requests.Session) -> None:
        """After stop() even a kept-alive client cannot connect; start() serves the same URL."""
        stand_in = QAStandIn().start()
        url = f"{stand_in.base_url}/health"
        assert http.get(url, timeout=5).status_code == 200
        stand_in.stop()
        with pytest.raises(requests.ConnectionError):
            http.get(url, timeout=5)
        with stand_in:
            assert http.get(url, timeout=5).status_code == 200

    def test_urls_name_all_five_services(self, stand_ins: SimpliStandIns) -> None:
        """SimpliStandIns.urls maps each service name to its own base URL."""
        assert set(stand_ins.urls) == {"triage", "reply", "sentiment", "qa", "kb"}
        assert len(set(stand_ins.urls.values())) == 5


VALIDATION_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("triage", "/classify", {"body": "x"}, "body -> subject"),
    ("triage", "/classify", {"subject": 123, "body": ""}, "body -> subject"),
    ("triage", "/classify", {"subject": "", "body": ""}, "body -> subject"),
    ("triage", "/classify", {"subject": "x" * 501, "body": ""}, "body -> subject"),
    ("triage", "/classify", {"subject": "x", "body": "", "metadata": []}, "body -> metadata"),
    (
        "triage",
        "/route",
        {"ticket_id": "T-1", "category": "Billing", "urgency": "high"},
        "body -> category",
    ),
    (
        "triage",
        "/route",
        {"ticket_id": "T-1", "category": "billing", "urgency": "urgent"},
        "body -> urgency",
    ),
    (
        "triage",
        "/route",
        {"ticket_id": 1, "category": "billing", "urgency": "high"},
        "body -> ticket_id",
    ),
    (
        "triage",
        "/route",
        {"ticket_id": "T-1", "category": "billing", "urgency": "high", "confidence": True},
        "body -> confidence",
    ),
    (
        "reply",
        "/api/v1/draft",
        {"ticket_id": "T-1", "conversation": [{"role": "user", "content": "hi"}]},
        "body -> conversation -> 0 -> role",
    ),
    ("reply", "/api/v1/draft", {"ticket_id": "T-1", "conversation": []}, "body -> conversation"),
    ("reply", "/api/v1/draft", {"ticket_id": "T-1"}, "body -> conversation"),
    (
        "reply",
        "/api/v1/draft",
        {"ticket_id": "T-1", "conversation": [{"role": "customer", "content": ""}]},
        "body -> conversation -> 0 -> content",
    ),
    ("reply", "/api/v1/draft", {"ticket_id": "T-1", "messages": ["hi"]}, "body -> messages -> 0"),
    (
        "reply",
        "/api/v1/draft",
        {
            "ticket_id": "T-1",
            "conversation": [{"role": "customer", "content": "hi"}],
            "style": None,
        },
        "body -> style",
    ),
    (
        "reply",
        "/api/v1/draft",
        {
            "ticket_id": "T-1",
            "conversation": [{"role": "customer", "content": "hi"}],
            "language": "EN",
        },
        "body -> language",
    ),
    ("reply", "/api/v1/feedback", {"draft_id": "d-1", "accepted": "yes"}, "body -> accepted"),
    (
        "sentiment",
        "/analyze",
        {"customer_id": "C-1", "text": "hi", "channel": "EMAIL"},
        "body -> channel",
    ),
    (
        "sentiment",
        "/analyze",
        {"customer_id": "jane@example.com", "text": "hi"},
        "body -> customer_id",
    ),
    ("sentiment", "/analyze", {"customer_id": "C-1\n", "text": "hi"}, "body -> customer_id"),
    ("sentiment", "/analyze", {"customer_id": "-C1", "text": "hi"}, "body -> customer_id"),
    ("sentiment", "/analyze", {"customer_id": "C-1", "text": "x" * 10_001}, "body -> text"),
    ("sentiment", "/analyze", {"customer_id": "C-1", "text": 42}, "body -> text"),
    ("qa", "/evaluate", {"messages": []}, "body -> messages"),
    (
        "qa",
        "/evaluate",
        {"messages": [{"role": "assistant", "content": "hi"}]},
        "body -> messages -> 0 -> role",
    ),
    ("kb", "/articles", {"title": "", "content": "x"}, "body -> title"),
    ("kb", "/articles", {"title": "t", "content": "x", "tags": ["a", 1]}, "body -> tags -> 1"),
    ("kb", "/api/v1/search", {"query": "x", "top_k": 2.5}, "body -> top_k"),
]


class TestValidation:
    @pytest.mark.parametrize(("service", "path", "body", "field"), VALIDATION_CASES)
    def test_invalid_requests_are_422(
        self,
        http: requests.Session,
        stand_ins: SimpliStandIns,
        service: str,
        path: str,
        body: dict[str, Any],
        field: str,
    ) -> None:
        """Each bad field is rejected with 422 VALIDATION_ERROR naming the field."""
        response = post(http, f"{stand_ins.urls[service]}{path}", body)
        assert response.status_code == 422, response.text
        payload = response.json()
        assert payload["error_code"] == "VALIDATION_ERROR"
        assert field in [error["field"] for error in payload["errors"]]

    def test_all_problems_are_reported_at_once(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """A request with several bad fields lists each of them."""
        response = post(
            http,
            f"{stand_ins.urls['sentiment']}/analyze",
            {"customer_id": "a@b", "text": "", "channel": "EMAIL"},
        )
        assert [e["field"] for e in response.json()["errors"]] == [
            "body -> customer_id",
            "body -> text",
            "body -> channel",
        ]

    def test_limits_are_inclusive(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """10,000 characters of text, a 64-character customer id and a null channel are fine."""
        body = {"customer_id": "C" * 64, "text": "x" * 10_000, "channel": None}
        assert post(http, f"{stand_ins.urls['sentiment']}/analyze", body).status_code == 200


class TestFaults:
    def test_injected_errors_then_recovery(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """inject() answers the next calls with the error envelope, then the service recovers."""
        stand_ins.triage.inject("/classify", 503, times=2)
        url = f"{stand_ins.urls['triage']}/classify"
        answers = [post(http, url, CLASSIFY, headers={"X-Request-ID": f"r{i}"}) for i in range(3)]
        assert [a.status_code for a in answers] == [503, 503, 200]
        assert answers[0].json() == {
            "error_code": "EXTERNAL_SERVICE_ERROR",
            "detail": "Injected failure (HTTP 503)",
            "request_id": "r0",
        }
        assert stand_ins.triage.count("/classify") == 3

    @pytest.mark.parametrize(
        ("status", "code"), [(429, "RATE_LIMITED"), (500, "INTERNAL_ERROR"), (403, "FORBIDDEN")]
    )
    def test_injected_status_has_its_error_code(
        self, http: requests.Session, stand_ins: SimpliStandIns, status: int, code: str
    ) -> None:
        """Each injected status carries the Simpli error_code for it."""
        stand_ins.kb.inject("/gaps", status)
        response = http.get(f"{stand_ins.urls['kb']}/gaps", timeout=5)
        assert (response.status_code, response.json()["error_code"]) == (status, code)

    def test_injected_delay(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """delay_s is slept before the injected error is answered."""
        stand_ins.qa.inject("/evaluate", 502, delay_s=0.2)
        started = time.monotonic()
        response = post(http, f"{stand_ins.urls['qa']}/evaluate", {"messages": []})
        assert time.monotonic() - started >= 0.2
        assert response.status_code == 502

    def test_override_returns_the_raw_body_once(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """override() answers its body verbatim for the next call, then normal answers resume."""
        stand_ins.sentiment.override("/analyze", {"score": 7, "label": "furious"})
        url = f"{stand_ins.urls['sentiment']}/analyze"
        body = {"customer_id": "C-1", "text": "fine"}
        first, second = post(http, url, body), post(http, url, body)
        assert (first.status_code, first.json()) == (200, {"score": 7, "label": "furious"})
        assert second.json()["label"] == "neutral"

    def test_override_does_not_hide_invalid_requests(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """An invalid request still gets its 422 and leaves the override for the next valid call."""
        stand_ins.triage.override("/classify", {"category": "spam"}, status=200)
        url = f"{stand_ins.urls['triage']}/classify"
        assert post(http, url, {"subject": 1}).status_code == 422
        assert post(http, url, CLASSIFY).json() == {"category": "spam"}


class TestTriage:
    @pytest.mark.parametrize(
        ("subject", "body", "expected"),
        [
            (CLASSIFY["subject"], CLASSIFY["body"], ("billing", "high", "neutral", 0.87)),
            (
                "App crash",
                "The app shows an error and crashes. Thanks!",
                ("technical", "medium", "positive", 0.71),
            ),
            (
                "Login problem",
                "I cannot log in to my account and this is unacceptable",
                ("account", "high", "negative", 0.79),
            ),
            (
                "Feature suggestion",
                "It would be nice to have dark mode on the roadmap.",
                ("feature_request", "low", "neutral", 0.87),
            ),
            (
                "Site outage",
                "The API is down for everyone",
                ("technical", "critical", "neutral", 0.63),
            ),
            ("Invoice error", "", ("billing", "medium", "neutral", 0.63)),
            (
                "refund",
                "refund refund refund refund refund",
                ("billing", "medium", "neutral", 0.97),
            ),
            ("Hello", "Just saying hi", ("general", "medium", "neutral", 0.5)),
        ],
        ids=["billing", "technical", "account", "feature", "critical", "tie", "capped", "general"],
    )
    def test_classify(
        self,
        http: requests.Session,
        stand_ins: SimpliStandIns,
        subject: str,
        body: str,
        expected: tuple[str, str, str, float],
    ) -> None:
        """Classification follows the documented keyword rules exactly."""
        response = post(
            http,
            f"{stand_ins.urls['triage']}/classify",
            {"subject": subject, "body": body, "metadata": {"account_type": "premium"}},
        )
        assert response.json() == dict(
            zip(("category", "urgency", "sentiment", "confidence"), expected, strict=True)
        )

    @pytest.mark.parametrize(
        ("category", "urgency", "expected"),
        [
            (
                "technical",
                "high",
                {
                    "team": "technical",
                    "agent": "A-021",
                    "reason": "High urgency technical issue routed to specialist",
                },
            ),
            (
                "billing",
                "critical",
                {
                    "team": "billing",
                    "agent": "A-001",
                    "reason": "Critical urgency billing issue routed to on-call lead",
                },
            ),
            (
                "feature_request",
                "low",
                {
                    "team": "feature_request",
                    "agent": "A-044",
                    "reason": "Low urgency feature request issue routed to specialist",
                },
            ),
        ],
    )
    def test_route(
        self,
        http: requests.Session,
        stand_ins: SimpliStandIns,
        category: str,
        urgency: str,
        expected: dict[str, str],
    ) -> None:
        """Critical tickets go to A-001, others to their category's specialist."""
        body = {
            "ticket_id": "T-1",
            "category": category,
            "urgency": urgency,
            "sentiment": "negative",
            "confidence": 0.9,
        }
        assert post(http, f"{stand_ins.urls['triage']}/route", body).json() == expected

    def test_rules(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """GET /rules lists the routing rules in the order they apply."""
        rules = http.get(f"{stand_ins.urls['triage']}/rules", timeout=5).json()
        assert [rule["agent"] for rule in rules] == [
            "A-001",
            "A-012",
            "A-021",
            "A-033",
            "A-044",
            "A-050",
        ]


class TestReply:
    def test_friendly_draft_quotes_the_customer_verbatim(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """The draft quotes the first customer line unescaped, a topical paragraph, a sign-off."""
        body = {
            "ticket_id": "T-1",
            "conversation": [
                {
                    "role": "customer",
                    "content": "I was charged twice <b>now</b> & more\nSecond line",
                },
                {"role": "agent", "content": "Let me look into this."},
            ],
        }
        answer = post(http, f"{stand_ins.urls['reply']}/api/v1/draft", body).json()
        assert answer["draft"] == (
            "Hi there,\n\n"
            'Thanks for getting in touch about "I was charged twice <b>now</b> & more".\n\n'
            "I've passed this to our billing team, who will review the charges on your account and "
            "put right anything that's wrong.\n\nBest wishes,\nThe Support Team"
        )
        assert (answer["confidence"], answer["suggested_template"], answer["language"]) == (
            0.82,
            "billing-charge-review",
            "en",
        )
        assert (
            answer["draft_id"]
            == post(http, f"{stand_ins.urls['reply']}/api/v1/draft", body).json()["draft_id"]
        )

    def test_formal_draft_from_messages(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """`messages` is accepted for `conversation`; formal style words the draft differently."""
        body = {
            "ticket_id": "T-2",
            "style": "formal",
            "language": "de",
            "messages": [
                {"role": "system", "content": "Ticket opened"},
                {
                    "role": "customer",
                    "content": "  \n  The export keeps crashing with an error  \nthanks",
                },
            ],
        }
        answer = post(http, f"{stand_ins.urls['reply']}/api/v1/draft", body).json()
        assert answer["draft"] == (
            "Dear customer,\n\n"
            'Thank you for contacting us regarding "The export keeps crashing with an error".\n\n'
            "We apologise for the inconvenience. Our engineering team is investigating, and any "
            "details of when the issue began will help us resolve it.\n\n"
            "Kind regards,\nCustomer Support"
        )
        assert (answer["suggested_template"], answer["language"]) == (
            "technical-troubleshooting",
            "de",
        )
        assert re.fullmatch(r"d-[0-9a-f]{8}", answer["draft_id"])

    def test_draft_without_customer_message(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """Without a customer message there is nothing to quote and confidence is low."""
        body = {"ticket_id": "T-3", "conversation": [{"role": "agent", "content": "Following up"}]}
        answer = post(http, f"{stand_ins.urls['reply']}/api/v1/draft", body).json()
        assert answer["draft"].startswith("Hi there,\n\nThanks for getting in touch.\n\n")
        assert (answer["confidence"], answer["suggested_template"]) == (0.4, None)

    def test_draft_ids_differ_by_input(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """Different tickets get different draft ids."""
        conversation = [{"role": "customer", "content": "Hello"}]
        ids = {
            post(
                http,
                f"{stand_ins.urls['reply']}/api/v1/draft",
                {"ticket_id": ticket, "conversation": conversation},
            ).json()["draft_id"]
            for ticket in ("T-1", "T-2")
        }
        assert len(ids) == 2

    def test_styles_and_feedback(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """Styles are listed; feedback is recorded."""
        url = stand_ins.urls["reply"]
        assert http.get(f"{url}/api/v1/styles", timeout=5).json() == {
            "styles": ["friendly", "formal"]
        }
        response = post(
            http,
            f"{url}/api/v1/feedback",
            {"draft_id": "d-1", "accepted": False, "edited_text": "Better"},
        )
        assert (response.status_code, response.json()) == (200, {"status": "recorded"})
        assert stand_ins.reply.feedback[0].edited_text == "Better"


class TestSentiment:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "This is terrible and unacceptable. I want to cancel and speak to a manager.",
                {
                    "score": -0.5,
                    "label": "negative",
                    "escalation_risk": 0.85,
                    "triggers": ["unacceptable", "cancel", "manager"],
                },
            ),
            (
                "Thanks, the fix works great!",
                {"score": 0.5, "label": "positive", "escalation_risk": 0.0, "triggers": []},
            ),
            (
                "I would like a refund please",
                {"score": 0.0, "label": "neutral", "escalation_risk": 0.2, "triggers": ["refund"]},
            ),
        ],
        ids=["negative", "positive", "neutral"],
    )
    def test_analyze(
        self, http: requests.Session, stand_ins: SimpliStandIns, text: str, expected: dict[str, Any]
    ) -> None:
        """Scores follow the documented keyword formula exactly."""
        body = {"customer_id": "C-001", "text": text, "channel": "email"}
        assert post(http, f"{stand_ins.urls['sentiment']}/analyze", body).json() == expected

    def test_timeline_and_alerts(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """Analyses build a paged per-customer timeline; risky ones raise alerts."""
        url = stand_ins.urls["sentiment"]
        for text in ("Thanks!", "Unacceptable, I will cancel and call my lawyer"):
            post(http, f"{url}/analyze", {"customer_id": "C_7", "text": text})
        page = http.get(
            f"{url}/customers/C_7/sentiment", params={"limit": 1, "offset": 1}, timeout=5
        ).json()
        assert (page["total"], len(page["items"]), page["items"][0]["label"]) == (2, 1, "neutral")
        alerts = http.get(f"{url}/alerts", timeout=5).json()["alerts"]
        assert [(a["customer_id"], a["escalation_risk"]) for a in alerts] == [("C_7", 0.6)]

    @pytest.mark.parametrize(
        ("path", "field"),
        [
            ("/customers/C_7/sentiment?limit=abc", "query -> limit"),
            ("/customers/C_7/sentiment?offset=-1", "query -> offset"),
            ("/customers/a@b.com/sentiment", "path -> customer_id"),
        ],
    )
    def test_timeline_validation(
        self, http: requests.Session, stand_ins: SimpliStandIns, path: str, field: str
    ) -> None:
        """Bad paging parameters and customer ids are 422."""
        response = http.get(f"{stand_ins.urls['sentiment']}{path}", timeout=5)
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field)


class TestQA:
    GOOD: ClassVar[list[dict[str, str]]] = [
        {"role": "customer", "content": "My order never arrived"},
        {
            "role": "agent",
            "content": "Sorry about that, thank you for your patience. "
            "I have issued a refund and the issue is resolved.",
        },
    ]

    @pytest.mark.parametrize("path", ["/evaluate", "/api/v1/evaluate"])
    def test_evaluate_at_both_paths(
        self, http: requests.Session, stand_ins: SimpliStandIns, path: str
    ) -> None:
        """Both paths score a good conversation the same way."""
        body = {"conversation_id": "12345", "agent_id": "A-7", "messages": self.GOOD}
        assert post(http, f"{stand_ins.urls['qa']}{path}", body).json() == {
            "overall_score": 0.84,
            "dimensions": {
                "empathy": 0.7,
                "resolution": 0.9,
                "communication": 0.9,
                "efficiency": 0.9,
            },
            "coaching_notes": [],
        }

    def test_conversation_without_agent(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """No agent message is accepted and scores resolution low, with coaching notes."""
        answer = post(
            http,
            f"{stand_ins.urls['qa']}/evaluate",
            {"messages": [{"role": "customer", "content": "Hello?"}]},
        ).json()
        assert answer["overall_score"] == 0.4
        assert answer["dimensions"] == {
            "empathy": 0.4,
            "resolution": 0.3,
            "communication": 0.2,
            "efficiency": 0.9,
        }
        assert len(answer["coaching_notes"]) == 3

    def test_long_terse_conversation(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """Many turns lower efficiency; one-word replies lower communication."""
        messages = [
            {"role": role, "content": "Done." if role == "agent" else "Is it fixed yet?"}
            for _ in range(5)
            for role in ("customer", "agent")
        ]
        answer = post(http, f"{stand_ins.urls['qa']}/evaluate", {"messages": messages}).json()
        assert answer["overall_score"] == 0.58
        assert answer["dimensions"] == {
            "empathy": 0.4,
            "resolution": 0.9,
            "communication": 0.4,
            "efficiency": 0.6,
        }


class TestKB:
    def test_update_by_external_id_and_gaps(
        self, http: requests.Session, stand_ins: SimpliStandIns
    ) -> None:
        """Re-posting an external_id updates that article; gaps shrink as articles cover topics."""
        url = stand_ins.urls["kb"]

        def gap_topics() -> list[str]:
            return [gap["topic"] for gap in http.get(f"{url}/gaps", timeout=5).json()["gaps"]]

        assert gap_topics() == [
            "billing",
            "password reset",
            "api errors",
            "refunds",
            "integrations",
            "shipping",
        ]
        created = post(
            http,
            f"{url}/articles",
            {
                "title": "Refund policy",
                "tags": ["billing"],
                "content": "<p>Refunds are issued within 5 days.</p>",
                "source": "hubspot-kb",
                "external_id": "101",
            },
        )
        assert (created.status_code, created.json()) == (
            201,
            {"id": "kb-0001", "title": "Refund policy", "external_id": "101", "version": 1},
        )
        post(
            http,
            f"{url}/articles",
            {"title": "Resetting your password", "content": "Use the reset link."},
        )
        assert gap_topics() == ["billing", "api errors", "integrations", "shipping"]

        updated = post(
            http,
            f"{url}/articles",
            {
                "title": "Refund & shipping policy",
                "external_id": "101",
                "content": "Shipping and refunds",
            },
        )
        assert (updated.status_code, updated.json()) == (
            201,
            {
                "id": "kb-0001",
                "title": "Refund & shipping policy",
                "external_id": "101",
                "version": 2,
            },
        )
        listing = http.get(f"{url}/articles", timeout=5).json()
        assert [(a["id"], a["version"]) for a in listing["articles"]] == [
            ("kb-0001", 2),
            ("kb-0002", 1),
        ]
        assert gap_topics() == ["billing", "api errors", "integrations"]

    def test_gaps_shape(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """Each gap has a fixed ticket count and example subjects; the report is timestamped."""
        report = http.get(f"{stand_ins.urls['kb']}/gaps", timeout=5).json()
        assert report["gaps"][0] == {
            "topic": "billing",
            "ticket_count": 14,
            "example_subjects": ["Charged twice this month", "Invoice shows the wrong amount"],
        }
        assert report["generated_at"].endswith("+00:00")

    def test_search(self, http: requests.Session, stand_ins: SimpliStandIns) -> None:
        """Search scores articles by the share of query words they contain."""
        url = stand_ins.urls["kb"]
        post(http, f"{url}/articles", {"title": "Shipping", "content": "Refunds for lost parcels"})
        post(http, f"{url}/articles", {"title": "Passwords", "content": "Reset it"})
        answer = post(
            http, f"{url}/api/v1/search", {"query": "refund shipping costs", "top_k": 5}
        ).json()
        assert answer["results"] == [
            {"id": "kb-0001", "title": "Shipping", "external_id": None, "score": 0.67}
        ]


def test_each_stand_in_runs_alone(http: requests.Session) -> None:
    """Every stand-in class starts on its own and answers /health."""
    for cls in (TriageStandIn, ReplyStandIn, SentimentStandIn, QAStandIn, KBStandIn):
        with cls() as stand_in:
            assert http.get(f"{stand_in.base_url}/health", timeout=5).json() == {"status": "ok"}
