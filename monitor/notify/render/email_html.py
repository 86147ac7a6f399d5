"""The email around a message: its subject, and the complete HTML document of its HTML part.

Inline styles only (mail clients drop <style> blocks and external sheets), light ones: a reader's
client keeps its own fonts and colours where it wants to.
"""

from __future__ import annotations

import html

from monitor.notify.render.dialects import shortened

# Long enough for a title and its watchlists, short enough for a phone's list of mails.
SUBJECT_CHARS = 100
# Our own words (labels, headings) are English; the quoted text keeps its language.
_LANGUAGE = "en"
_BODY_STYLE = (
    "margin:0;padding:16px;background:#ffffff;color:#202124;"
    "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "font-size:15px;line-height:1.45"
)


def subject(heading: str) -> str:
    """One line of at most `SUBJECT_CHARS` characters, cut on a word boundary with "…": feed
    text may hold line breaks, and none may fold a header."""
    return shortened(heading, SUBJECT_CHARS)


def document(title: str, body: str) -> str:
    """A complete HTML document holding `body` (HTML already escaped); `title` is plain."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_LANGUAGE}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        "</head>\n"
        f'<body style="{_BODY_STYLE}">\n'
        '<div style="max-width:680px">\n'
        f"{body}\n"
        "</div>\n"
        "</body>\n"
        "</html>\n"
    )
