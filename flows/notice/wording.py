"""Fixed wording every notice carries (rights, the ICO), kept in one place.

Templates and the JSON output both read these, so the page and the machine-readable
notice can never disagree.
"""

from __future__ import annotations

RIGHTS: tuple[tuple[str, str], ...] = (
    ("Access", "ask for a copy of the information we hold about you or your child (a subject access request)"),
    ("Rectification", "ask us to correct information that is wrong or incomplete"),
    ("Erasure", "ask us to delete information, where we have no good reason to keep it"),
    ("Restriction", "ask us to limit how we use information, for example while a correction is checked"),
    ("Objection", "object to our use of information where we rely on public task or legitimate interests"),
    ("Portability", "ask for information you gave us, in a common electronic format, where we rely on consent or contract"),
)

CONSENT_WITHDRAWAL = (
    "Where we rely on your consent, you can withdraw it at any time by contacting the school office "
    "or our data protection officer. Withdrawing consent does not affect what we did before you withdrew it."
)

ICO_NAME = "Information Commissioner's Office (ICO)"
ICO_URL = "https://ico.org.uk/make-a-complaint/"
ICO_PHONE = "0303 123 1113"
ICO_ADDRESS = ("Wycliffe House", "Water Lane", "Wilmslow", "Cheshire", "SK9 5AF")
