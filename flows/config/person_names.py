"""What counts as a person's name (pure): folding, look-alike characters, words that are not names.

Shared by the trust file's ``approval.approvers`` (``flows.config.models``) and the approver check
(``flows.editions.approval``), which imports the models and so cannot be imported by them.

* ``fold`` is how two spellings are compared: NFKC (full-width ``Ａｌｅｘ`` is ``Alex``),
  whitespace collapsed, case folded.
* ``skeleton`` is a confusables skeleton in the manner of Unicode TR39: Cyrillic and Greek
  letters (and a few Latin, Armenian and digit shapes) that look like Latin letters are
  mapped to them, so ``rооt`` with Cyrillic ``о`` has the skeleton of ``root``. The table is
  this module's own (the letters a keyboard or a paste can give a Latin name), not the full
  ``confusables.txt``; mixed-script detection catches what the table does not.
* ``check_person_name`` holds the rules for a name when the trust lists no approvers; the words
  that are never a name (system accounts, answers, roles) are listed in ``flows.config.non_names``.
"""

from __future__ import annotations

import re
import unicodedata

from flows.config.non_names import NOT_NAMES, SYSTEM_ACCOUNTS

MAX_NAME = 120

# Letters that look like Latin ones: TR39 confusables.txt entries for Cyrillic, Greek,
# Armenian and Latin variants, before case folding (capitals look like capitals).
_LOOK_ALIKES = {
    # Cyrillic capitals and small letters
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "У": "Y",
    "Х": "X",
    "Ѕ": "S",
    "І": "I",
    "Ј": "J",
    "Ԛ": "Q",
    "Ԝ": "W",
    "Ү": "Y",
    "Һ": "H",
    "Ӏ": "l",
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ј": "j",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "һ": "h",
    "ӏ": "l",
    "ү": "y",
    "ѵ": "v",
    "ɡ": "g",
    # Greek capitals and small letters
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
    "Ϲ": "C",
    "Ϳ": "J",
    "α": "a",
    "ο": "o",
    "ρ": "p",
    "ι": "i",
    "ν": "v",
    "υ": "u",
    "κ": "k",
    "χ": "x",
    "ϲ": "c",
    "ϳ": "j",
    "γ": "y",
    "ε": "e",
    "τ": "t",
    "ω": "w",
    # Armenian
    "օ": "o",
    "ս": "u",
    "հ": "h",
    "ո": "n",
    "ց": "g",
    "զ": "q",
    "Տ": "S",
    "Օ": "O",
    # Latin letters and digits that read as other Latin letters
    "ı": "i",
    "ɑ": "a",
    "ɩ": "i",
    "ʏ": "y",
    "ᴠ": "v",
    "ᴡ": "w",
    "ᴢ": "z",
    "ꞵ": "b",
    "0": "o",
    "1": "l",
    "|": "l",
}
# After case folding: TR39 maps "m" to "rn" (the two read alike in many fonts); one way round suffices.
_FOLDED_LOOK_ALIKES = (("m", "rn"),)
# Scripts a real name may mix (TR39 "highly restrictive"): Latin with the Japanese, Chinese or Korean sets.
_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)
_BOT = re.compile(r"(?:^|[\W_])bot(?:$|[\W_])|(?:\[bot\]|-bot)$")


def tidy(text: str) -> str:
    """``text`` in NFKC with its whitespace collapsed: what is recorded."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def fold(text: str) -> str:
    """The comparison key of a name: NFKC, whitespace collapsed, case folded."""
    return tidy(text).casefold()


def skeleton(text: str) -> str:
    """A TR39-style confusables skeleton: equal for strings a reader cannot tell apart."""
    mapped = "".join(_LOOK_ALIKES.get(ch, ch) for ch in unicodedata.normalize("NFD", tidy(text)))
    folded = "".join(_LOOK_ALIKES.get(ch, ch) for ch in mapped.casefold())
    for shape, letter in _FOLDED_LOOK_ALIKES:
        folded = folded.replace(shape, letter)
    return unicodedata.normalize("NFC", folded)


def script(ch: str) -> str | None:
    """The script of a letter (``LATIN``, ``CYRILLIC``, ``CJK``…) from its Unicode name; None for others."""
    if not unicodedata.category(ch).startswith("L"):
        return None  # digits, spaces, punctuation, combining marks: common to every script
    name = unicodedata.name(ch, "")
    if not name or name.startswith("MODIFIER LETTER"):
        return None
    first = name.split()[0]
    return "CJK" if first in ("CJK", "IDEOGRAPHIC") else first


def foreign_letters(text: str) -> list[str]:
    """The letters of ``text`` outside its main script, described: ``['Cyrillic о']``.

    The main script is Latin when the text has any Latin letter, else its most frequent one.
    """
    letters = [(ch, s) for ch in text if (s := script(ch))]
    if not letters:
        return []
    counts: dict[str, int] = {}
    for _, s in letters:
        counts[s] = counts.get(s, 0) + 1
    main = "LATIN" if "LATIN" in counts else max(counts, key=lambda s: counts[s])
    seen: list[str] = []
    for ch, s in letters:
        described = f"{s.title()} {ch}"
        if s != main and described not in seen:
            seen.append(described)
    return seen


def mixes_scripts(text: str) -> bool:
    """True if ``text`` mixes scripts no real name mixes (Latin with Cyrillic or Greek, say)."""
    scripts = {s for ch in text if (s := script(ch))}
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _MIXES)


def look_alike_chars(text: str) -> str:
    """The characters that make ``text`` a look-alike, for a message: ``Cyrillic о`` (or the code points)."""
    described = foreign_letters(text) or [
        f"{unicodedata.name(ch, f'U+{ord(ch):04X}').title()} {ch}" for ch in dict.fromkeys(text) if ch in _LOOK_ALIKES
    ]
    if not described and "rn" in text.casefold():
        described = ["'rn', read as 'm'"]
    return ", ".join(described) or "letters that read as other letters"


_SYSTEM_SKELETONS = {skeleton(account): account for account in sorted(SYSTEM_ACCOUNTS)}


def system_account_like(text: str) -> str | None:
    """The system account ``text`` reads as, by skeleton (``rооt`` → ``root``), if any."""
    return _SYSTEM_SKELETONS.get(skeleton(text))


def check_text(name: str | None) -> str:
    """``name`` with its whitespace collapsed, if it can be a name at all; raises ValueError."""
    text = " ".join((name or "").split())
    if not text:
        raise ValueError("an approver's name is required (the person who checked the change, e.g. 'Alex Example (DPO)')")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise ValueError("an approver's name cannot contain control or invisible characters")
    if len(text) > MAX_NAME:
        raise ValueError(f"an approver's name is at most {MAX_NAME} characters")
    return text


def check_person_name(name: str | None) -> str:
    """A person's name, tidied to NFKC; raises ValueError saying what a name must be.

    Refused: empty, control or invisible characters, over ``MAX_NAME``, fewer than two
    letters, a system account (also in full-width or look-alike letters), letters of two
    alphabets mixed (``rооt`` with Cyrillic ``о``), an answer or a role (``yes``, ``n/a``,
    ``DPO``) and bot accounts (``github-actions[bot]``).
    """
    raw = check_text(name)
    text = tidy(raw)
    if not any(ch.isalpha() for ch in text):
        raise ValueError(f"{raw!r} is not a person's name")
    folded = text.casefold()
    if folded not in SYSTEM_ACCOUNTS and (account := system_account_like(text)):
        raise ValueError(
            f"{raw!r} uses look-alike characters ({look_alike_chars(text)}) and reads as {account!r}, a system account: "
            "give the name of the person approving"
        )
    if mixes_scripts(text):
        raise ValueError(
            f"{raw!r} uses look-alike characters ({look_alike_chars(text)}) mixed with another alphabet: "
            "type the person's name again in one alphabet"
        )
    if folded in SYSTEM_ACCOUNTS:
        raise ValueError(f"{raw!r} is a system account, not a person: give the name of the person approving")
    if _BOT.search(folded):
        raise ValueError(f"{raw!r} is a bot account, not a person: give the name of the person approving")
    if sum(ch.isalpha() for ch in text) < 2:
        raise ValueError(f"{raw!r} is not a person's name: give the name of the person approving, e.g. 'Alex Example (DPO)'")
    if folded in NOT_NAMES or "".join(ch for ch in folded if ch.isalnum()) in NOT_NAMES:
        raise ValueError(
            f"{raw!r} is an answer or a role, not a person's name: give the name of the person approving, e.g. 'Alex Example (DPO)'"
        )
    return text
