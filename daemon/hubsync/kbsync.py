"""The knowledge-base job: HubSpot articles → Simpli KB, then the gap report.

An article is sent only when it is new or its content hash changed, and recorded only after
Simpli KB accepted it. A permanent failure (a 4xx, an empty article, a bad answer) fails that
one article and the sync goes on; a transient one (Simpli KB down after ``SimpliHTTP``'s
retries, HubSpot unavailable) stops the sync by raising, and the next run resends whatever was
not recorded. One ``kb_sync_finished`` line carries the counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import structlog

from hubsync import errors
from hubsync.ledger.kb_store import KBStore
from hubsync.simpli.kb import GapReport, KnowledgeBase
from hubsync.streams.kb import ArticleSource

log = structlog.get_logger(__name__)

TOPIC_WIDTH_MAX: Final = 40
SUBJECT_CHARS_MAX: Final = 80
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class KBSyncReport:
    """What one sync did. ``gaps`` is the number of gaps reported, None if no report was read."""

    seen: int
    sent: int
    unchanged: int
    failed: list[tuple[str, str]]  # (article id, reason)
    gaps: int | None
    source: str | None  # "kb_api" or "site_search"


def sync(portal_id: str, source: ArticleSource, kb: KnowledgeBase,
         store: KBStore) -> KBSyncReport:
    """Send new and changed articles of ``portal_id`` to Simpli KB, then save the gap report."""
    known = store.hashes(portal_id)
    seen = sent = unchanged = 0
    failed: list[tuple[str, str]] = []
    for article in source.articles():
        seen += 1
        content_hash = article.content_hash
        if known.get(article.id) == content_hash:
            unchanged += 1
            continue
        try:
            simpli_id = kb.push(article)
        except errors.Permanent as exc:
            failed.append((article.id, str(exc)))
            log.warning("kb_article_failed", portal=portal_id, article_id=article.id,
                        reason=str(exc))
            continue
        store.record_synced(portal_id, article, simpli_id)
        known[article.id] = content_hash
        sent += 1
    gaps = _save_gaps(portal_id, kb, store)
    report = KBSyncReport(seen=seen, sent=sent, unchanged=unchanged, failed=failed, gaps=gaps,
                          source=source.source)
    log.info("kb_sync_finished", portal=portal_id, source=report.source, seen=seen, sent=sent,
             unchanged=unchanged, failed=len(failed), gaps=gaps)
    return report


def _save_gaps(portal_id: str, kb: KnowledgeBase, store: KBStore) -> int | None:
    """Fetch and keep the gap report; a permanent failure is logged, a transient one raised."""
    try:
        report = kb.gaps()
    except errors.Permanent as exc:
        log.warning("kb_gaps_failed", portal=portal_id, reason=str(exc))
        return None
    store.save_gaps(portal_id, report.raw)
    return len(report.gaps)


def format_gaps(report: dict[str, Any] | None, fetched_at: datetime | None) -> str:
    """A stored gap report as a table (topic, ticket count, example subjects), most tickets first.

    Text from the report is untrusted: control characters become spaces and long values are cut.
    """
    if report is None:
        return "no gap report yet"
    parsed = GapReport.from_api(report)
    header = "Knowledge-base gaps"
    when = [f"fetched {fetched_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"] if fetched_at else []
    if parsed.generated_at:
        when.append(f"generated {_clean(parsed.generated_at, SUBJECT_CHARS_MAX)}")
    if when:
        header = f"{header} ({', '.join(when)})"
    if not parsed.gaps:
        return f"{header}\nno gaps: every topic in the report is covered"
    rows = [(_clean(g.topic, TOPIC_WIDTH_MAX), str(g.ticket_count),
             "; ".join(_clean(s, SUBJECT_CHARS_MAX) for s in g.example_subjects) or "-")
            for g in sorted(parsed.gaps, key=lambda g: -g.ticket_count)]
    topic_width = max(len("TOPIC"), *(len(row[0]) for row in rows))
    count_width = max(len("TICKETS"), *(len(row[1]) for row in rows))
    lines = [header, "", f"{'TOPIC':<{topic_width}}  {'TICKETS':>{count_width}}  EXAMPLE SUBJECTS"]
    lines += [f"{topic:<{topic_width}}  {count:>{count_width}}  {subjects}"
              for topic, count, subjects in rows]
    return "\n".join(lines)


def _clean(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, control characters replaced by spaces."""
    line = _CONTROL.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
