"""HubSpot records are parsed in one place; a bad one is named, never dumped, never fatal."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.hubspot.records import BadRecord, Pipeline, SearchPage, Ticket

GOOD = {"id": "101", "properties": {"subject": "s", "content": "c", "hs_pipeline": "0",
                                    "hs_pipeline_stage": "1",
                                    "createdate": "2026-03-01T12:00:00.000Z",
                                    "hs_lastmodifieddate": "2026-03-01T12:00:05.000Z"}}


def with_props(**props: Any) -> dict[str, Any]:
    return {"id": "102", "properties": {**GOOD["properties"], **props}}


def test_a_page_keeps_good_records_and_names_bad_ones() -> None:
    page = SearchPage.from_api({"total": 3, "results": [
        GOOD, with_props(hs_lastmodifieddate=None), {"id": "x1", "properties": {}}],
        "paging": {"next": {"after": "3"}}})
    assert [t.id for t in page.tickets] == ["101"]
    assert page.bad == [("102", "property hs_lastmodifieddate is missing"),
                        ("x1", "record id is missing or not numeric")]
    assert page.total == 3 and page.next_after == "3"


def test_paging_absent_means_last_page() -> None:
    assert SearchPage.from_api({"total": 0, "results": []}).next_after is None


def test_epoch_ms_and_iso_timestamps_both_parse() -> None:
    a = Ticket.from_api(GOOD)
    b = Ticket.from_api(with_props(hs_lastmodifieddate="1772366405000"))
    assert a.modified_at == b.modified_at


@pytest.mark.parametrize("raw", [None, [], {"results": "nope"}])
def test_a_search_answer_without_results_is_refused(raw: Any) -> None:
    with pytest.raises(BadRecord):
        SearchPage.from_api(raw)


def test_pipeline_stage_closed_only_from_ticket_state() -> None:
    pipeline = Pipeline.from_api({"id": "0", "label": "Support", "stages": [
        {"id": "1", "label": "New", "metadata": {"ticketState": "OPEN"}},
        {"id": "4", "label": "Closed", "metadata": {"ticketState": "CLOSED"}},
        {"id": "9", "label": "Odd", "metadata": {"isClosed": "true"}}]})
    assert [(s.id, s.closed) for s in pipeline.stages] == [
        ("1", False), ("4", True), ("9", False)]
