"""Reading the identifiers customers type: contract numbers and plate numbers. Days and times
are read by `crm.when`."""

from __future__ import annotations

import re
from typing import Optional

CONTRACT_NUMBER = re.compile(r"\bK[\s.-]*(\d[\s.-]*){11}\b", re.IGNORECASE)
# region codes of Indonesian plates, then 1-4 digits, then 1-3 letters: "B 1234 XYZ"
PLATE_REGIONS = (
    "A|B|D|E|F|G|H|K|L|M|N|P|R|S|T|W|Z|AA|AB|AD|AE|AG|BA|BB|BD|BE|BG|BH|BK|BL|BM|BN|BP|DA|DB|DD|DE|"
    "DG|DH|DK|DL|DM|DN|DR|DT|EA|EB|ED|KB|KH|KT|KU|PA|PB"
)
PLATE_NUMBER = re.compile(rf"\b({PLATE_REGIONS})\s*(\d{{1,4}})\s*([A-Z]{{1,3}})\b", re.IGNORECASE)


def normalise_contract_number(text: str) -> Optional[str]:
    """'k-101-24-000001' -> 'K10124000001'; None when no contract number is in `text`."""
    match = CONTRACT_NUMBER.search(text or "")
    if not match:
        return None
    return "K" + re.sub(r"\D", "", match.group(0))


def normalise_plate(text: str) -> Optional[str]:
    match = PLATE_NUMBER.search(text or "")
    if not match:
        return None
    return " ".join(part.upper() for part in match.groups())
