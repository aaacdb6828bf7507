"""Paper sizes in IPP's words (PWG 5101.1 media keywords), for every side: the agent
asks a CUPS queue for a paper the API names, the server's IPP printer offers and reads
them."""

from __future__ import annotations

import re

# Common paper names -> PWG 5101.1 media keyword and size in hundredths of a millimetre.
PAPER: dict[str, tuple[str, int, int]] = {
    "a3": ("iso_a3_297x420mm", 29700, 42000),
    "a4": ("iso_a4_210x297mm", 21000, 29700),
    "a5": ("iso_a5_148x210mm", 14800, 21000),
    "a6": ("iso_a6_105x148mm", 10500, 14800),
    "b4": ("iso_b4_250x353mm", 25000, 35300),  # ISO B, not JIS B (jis_b4_257x364mm)
    "b5": ("iso_b5_176x250mm", 17600, 25000),
    "letter": ("na_letter_8.5x11in", 21590, 27940),
    "legal": ("na_legal_8.5x14in", 21590, 35560),
    "tabloid": ("na_ledger_11x17in", 27940, 43180),
    "ledger": ("na_ledger_11x17in", 27940, 43180),
    "executive": ("na_executive_7.25x10.5in", 18415, 26670),
    "dl": ("iso_dl_110x220mm", 11000, 22000),
}

# A PWG self-describing name ends with its size: iso_a4_210x297mm, na_index-4x6_4x6in.
_PWG_SIZE = re.compile(r"_(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|in)$")


def media_size(keyword: str) -> tuple[int, int] | None:
    """Width and height of a PWG media keyword in hundredths of a millimetre, if it says."""
    for pwg, width, height in PAPER.values():
        if pwg == keyword:
            return width, height
    match = _PWG_SIZE.search(keyword)
    if not match:
        return None
    scale = 100 if match.group(3) == "mm" else 2540
    return round(float(match.group(1)) * scale), round(float(match.group(2)) * scale)


def media_keyword(paper: str) -> str:
    """The PWG keyword of a paper name ("A4" -> "iso_a4_210x297mm"); any other name as it is."""
    paper = paper.strip()
    return PAPER.get(paper.lower(), (paper,))[0]
