"""Note bodies: fixed HTML templates around escaped, untrusted text.

Customer text and AI output never reach ``hs_note_body`` unescaped. Text is truncated
*before* escaping (so no entity is ever cut), and the whole body is re-checked against
HubSpot's 65,536-character limit. Each note ends with a visible marker of its op key —
``sync-ref:<op_key>`` — which is how an unknown outcome is reconciled without re-posting.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

NOTE_BODY_MAX = 65_536
MARKER_PREFIX = "sync-ref:"


def marker(op_key: str) -> str:
    return f"{MARKER_PREFIX}{op_key}"


def _paragraphs(text: str) -> Markup:
    """Escape, then keep the text's shape: blank lines → paragraphs, newlines → <br>."""
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in b.split("\n")))
        for b in blocks)


def _fit(text: str, budget: int) -> str:
    """Cut raw text so that even fully escaped (×6 for '&quot;') it fits ``budget``."""
    if len(str(escape(text))) <= budget:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if len(str(escape(text[:mid]))) + 40 <= budget:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + " …[truncated]"


def render(title: str, body_text: str, op_key: str, *, details: Sequence[str] = (),
           footer: str = "") -> str:
    """A note: bold title, details list, the (escaped) body, a footer and the marker."""
    head = Markup("<p><strong>{}</strong></p>").format(title)
    items = (Markup("<ul>{}</ul>").format(
        Markup("").join(Markup("<li>{}</li>").format(d) for d in details)) if details
        else Markup(""))
    tail = Markup("")
    if footer:
        tail += Markup("<p><em>{}</em></p>").format(footer)
    tail += Markup('<p style="color:#7c98b6;font-size:11px">{}</p>').format(marker(op_key))
    fixed = len(str(head + items + tail))
    body = _paragraphs(_fit(body_text, NOTE_BODY_MAX - fixed - 200))
    html = str(head + items + body + tail)
    if len(html) > NOTE_BODY_MAX:  # only possible through a pathological number of newlines
        html = str(head + items + Markup("<p>{}</p>").format(
            _fit(body_text, NOTE_BODY_MAX - fixed - 200)) + tail)
    return html


def draft_note(draft: str, confidence: float, op_key: str, *,
               details: Sequence[str] = ()) -> str:
    """The AI reply draft, as agents see it on the ticket timeline."""
    return render(
        f"AI draft reply (confidence {round(confidence * 100)}%)",
        draft, op_key, details=details,
        footer="Drafted by Simpli Reply. Review and edit before sending.",
    )


def qa_note(overall: float, dimensions: dict[str, float], coaching: Sequence[str],
            op_key: str) -> str:
    """The QA evaluation: overall score, one line per dimension, coaching notes."""
    details = [f"{name.replace('_', ' ').capitalize()}: {round(score * 100)}%"
               for name, score in sorted(dimensions.items())]
    body = "\n".join(f"• {note}" for note in coaching) or "No coaching notes."
    return render(f"QA score: {round(overall * 100)}/100", "Coaching notes:\n" + body,
                  op_key, details=details, footer="Scored by Simpli QA.")
