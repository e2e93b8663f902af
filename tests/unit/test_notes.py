"""Note rendering: untrusted text is escaped, sized, and marked."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.writeback import notes

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "li"}


def tags(body: str) -> set[str]:
    return set(re.findall(r"</?([a-zA-Z0-9]+)", body))


def test_script_and_ampersand_only_escaped() -> None:
    body = notes.draft_note("Hi <script>alert(1)</script> & co", 0.8, "k1",
                            details=["Category: <b>billing</b>"])
    assert "<li>Category: &lt;b&gt;billing&lt;/b&gt;</li>" in body
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body
    assert notes.marker("k1") in body


def test_newlines_become_paragraphs_and_breaks() -> None:
    body = notes.render("T", "line one\nline two\n\nsecond para", "k")
    assert "<p>line one<br>line two</p><p>second para</p>" in body


def test_huge_text_is_cut_below_hubspot_limit_without_breaking_entities() -> None:
    body = notes.render("T", "&<>\"'" * 50_000, "k")
    assert len(body) <= notes.NOTE_BODY_MAX
    assert notes.marker("k") in body
    assert re.search(r"&[a-z#0-9]*(?![a-z#0-9;])", body.replace("&amp;", "")
                     .replace("&lt;", "").replace("&gt;", "").replace("&#34;", "")
                     .replace("&#39;", "")) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_survives_and_adds_no_markup(text: str) -> None:
    body = notes.render("Title", text, "key")
    assert tags(body) <= ALLOWED_TAGS
    assert len(body) <= notes.NOTE_BODY_MAX
    assert not re.search(r"<[^>]*\son[a-z]+=", body)   # no event-handler attributes
    visible = html.unescape(re.sub(r"<[^>]+>", "\n", body))
    for chunk in [c for c in text.replace("\r\n", "\n").split("\n") if c.strip()]:
        assert chunk.strip() in visible
