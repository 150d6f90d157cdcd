"""Reading the identifiers customers type: contract numbers and plate numbers. Days and times
are read by `crm.when`."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Tuple

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


# the contract number's eleven digits sent alone, without the K ("10124000001"); not a phone
# number ("0812...", "62812...")
_DIGITS_ONLY = re.compile(r"^\s*(?!0|62)(\d[\s.-]*){11}\s*$")


def contract_number_answered(text: str) -> Optional[str]:
    """The contract number given as an answer to the question for it: as anywhere, or its eleven
    digits alone without the K."""
    return normalise_contract_number(text) or (
        "K" + re.sub(r"\D", "", text) if _DIGITS_ONLY.match(text or "") else None
    )


def normalise_plate(text: str) -> Optional[str]:
    match = PLATE_NUMBER.search(text or "")
    if not match:
        return None
    return " ".join(part.upper() for part in match.groups())


# --- what a message is doing --------------------------------------------------------------------

_FILLERS = (
    r"(?:hmm+|hm+|emm+|eh+|oh+|ah+|yah+|wah+|duh+|aduh|waduh|ok|oke+|okay|okey|maaf|sorry|sori|"
    r"kak|ka|min|gan|sis|pak|bu|mas|mba|mbak|bang|ya|iya)"
)
_NO = r"ga|gak|gk|g|nggak|ngga|nggk|enggak|engga|ndak|nda|tidak|tdk"  # the ways a plain no is written
_CANCEL_CORE = (
    rf"(?:(?:{_NO}|gajadi|gjd)\s*(?:jadi|jd|usah)?|gausah|"
    r"batal\w*|"
    r"cancel\w*|stop|skip(?=\W+(?:dulu|dl|aja|ajah|saja|deh))|udahan|sudahan|nanti\s+(?:aja|saja|dulu)|lain\s+kali)"
)
_CANCEL_AFTER = r"(?:deh|dulu|dl|aja|ajah|saja|ya|yah|yaa|kak|min|kok|sih|dong|mas|mba|mbak|pak|bu|gan|sis)"
_REASON = (
    r"(?:mau|mo|soalnya|karena|krn|karna|nanti|entar|ntar|makasih|terima\s*kasih|thanks|thx|tks|trims|"
    r"sm|sama|lain\s+kali|belum|blm|masih|lagi|pikir|diskusi|tanya|di\s*proses|lanjut|dilanjut\w*)"
)
CANCELLATION = re.compile(
    rf"^\W*(?:{_FILLERS}\W+)*(?P<core>{_CANCEL_CORE})(?:\W+{_CANCEL_AFTER})*\W*(?:$|[,.!;]|{_REASON}\b)",
    re.IGNORECASE,
)
# the core above reads "ga"/"tidak" alone as a cancellation; only these words make one
_CANCEL_WORDS = re.compile(
    r"jadi|jd|gajadi|gjd|usah|gausah|batal|cancel|stop|skip|udahan|sudahan|nanti|lain", re.IGNORECASE
)
_QUESTION = re.compile(
    r"\?|\b(?:apa|apakah|brp|berapa|kapan|gimana|bagaimana|bgmn|gmn|dimana|di\s*mana|kenapa|knp|mengapa|"
    r"bisa|bs|bisakah|boleh|bole|ga|gak|nggak|ngga|kah|dong|tolong|mohon|mau|pengen|ingin|minta|"
    r"tanya|nanya|info|cek|buka|tutup|jam)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[^\W\d_]+(?:[.'’-]?\s*[^\W\d_]+){0,5}\.?$")
_NOT_IN_NAMES = re.compile(
    r"\b(?:mau|jadi|dulu|deh|dong|sih|aja|saja|sama|sm|dengan|dgn|istri|suami|saya|sy|aku|gue|gw|kami|"
    r"tidak|gak|ga|nggak|belum|blm|yang|yg|untuk|utk|karena|krn|soalnya|tanya|gimana|berapa|brp|bisa|"
    r"nanti|tolong|mohon|kak|min|batal|cancel|terima|kasih|makasih|tau|tahu|lupa|kenapa|apa)\b",
    re.IGNORECASE,
)


# "tidak, terima kasih", "ga kak, makasih ya": a plain no with thanks declines, whatever was asked
_NO_THANKS = re.compile(
    rf"^\W*(?:{_FILLERS}\W+)*(?:{_NO}|no|nope)"
    rf"(?:\W+{_CANCEL_AFTER})*\W+(?:makasih|makasi|terima\s*kasih|trima\s*kasih|thanks|thank\s+you|thx|tks|trims|tq)"
    rf"(?:\W+(?:banyak|bnyk|ya|yaa|kak|min|pak|bu|mas|mba|mbak|sis|gan|sebelumnya|infonya))*\W*$",
    re.IGNORECASE,
)


def is_cancellation(text: str) -> bool:
    """ "ga jadi deh, mau diskusi sm istri dulu", "batal aja", "skip dulu", "hmm ga jadi dulu deh,
    makasih", "tidak, terima kasih": the customer stops what is under way, with or without a
    reason after it. "gak jadi-jadi BPKB saya" (a complaint) is not one."""
    text = (text or "")[:300]
    match = CANCELLATION.match(text)
    return bool(match and _CANCEL_WORDS.search(match.group("core"))) or bool(_NO_THANKS.match(text))


# words that say yes and nothing else ("mau", "boleh", "ok" also open new requests: "boleh minta
# rekening koran", "ok, denda saya berapa")
_YES_FIRST = re.compile(
    r"^\W*(?:ya+|iya+h?|yes|yup|betul|benar|bener|siap|setuju|"
    # "oke saya mau": an acknowledgement alone ("ok makasih") or "mau tanya ..." is no yes
    r"(?:oke?|okay|okey|oce|baik|sip)\W+(?:saya\s+|aku\s+|sy\s+)?(?:mau|setuju|lanjut))\b",
    re.IGNORECASE,
)


def begins_with_yes(text: str) -> bool:
    """ "ya minta surat resminya", "iya betul, kirim ya": a yes first, whatever follows it; not
    "ya ga jadi deh" (a cancellation) nor "ya, denda saya berapa?" (a new question)."""
    text = text or ""
    return bool(_YES_FIRST.match(text)) and "?" not in text and not is_cancellation(text)


_SALAM = re.compile(
    r"\b(?:as+alamu?\W*\s*'?\s*alaikum\w*|as+alamualaikum\w*|as+lm\w*|aslm\w*|askum|ass\s+wr\.?\s*wb)\b",
    re.IGNORECASE,
)


def is_salam(text: str) -> bool:
    """ "assalamualaikum", "assalamu'alaikum", "asslmkm", "ass wr wb": a greeting answered in kind."""
    return bool(_SALAM.search(text or ""))


def looks_like_a_question(text: str) -> bool:
    """A question mark or a question/request word: an answer to a form ("di parkiran mall") has none."""
    return bool(_QUESTION.search(text or ""))


# asking whether something can be ("sabtu bisa?", "bisa diambil hari sabtu ga?", "apakah senin buka"),
# not choosing ("sabtu aja", "mau hari sabtu", "sabtu ya")
_ASKS_WHETHER = re.compile(
    r"\?|\b(?:apa|apakah|bisa|bisakah|bs|boleh|bole|buka|ga|gak|gk|nggak|ngga|engga|enggak|kah)\b", re.IGNORECASE
)


def asks_whether(text: str) -> bool:
    """ "sabtu bisa?", "kalau senin buka ga": a question whether it can be, not a choice made."""
    return bool(_ASKS_WHETHER.search(text or ""))


def looks_like_a_name(text: str) -> bool:
    """A person's name: one to six words of letters, none of them a sentence word ("mau", "dulu")."""
    text = " ".join((text or "").split())
    return bool(_NAME.match(text)) and not _NOT_IN_NAMES.search(text) and len(text) <= 80


def looks_like_a_police_report_number(text: str) -> bool:
    """A police letter number has digits ("LP/B/1234/XII/2026/SPKT", "STPL 123/2026")."""
    return len(re.findall(r"\d", text or "")) >= 2


# --- amounts of money ------------------------------------------------------------------------------

_AMOUNT = re.compile(
    r"(?:\brp\.?\s*)?(?P<number>\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d{1,2})?)\s*"
    r"(?P<unit>jt|juta|rb|ribu|k)?\b",
    re.IGNORECASE,
)
_UNITS = {"jt": 1_000_000, "juta": 1_000_000, "rb": 1_000, "ribu": 1_000, "k": 1_000}


def read_amount(text: str) -> Optional[int]:
    """A rupiah amount a customer typed ("Rp6.228.000", "6,2 juta", "500rb", "6228000"); None when
    there is none. A bare number counts only from Rp10.000 up (a day or a year is not an amount)."""
    for match in _AMOUNT.finditer(text or ""):
        number, unit = match.group("number"), (match.group("unit") or "").lower()
        said_rupiah = match.group(0).lower().lstrip().startswith("rp")
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number):  # thousands separators
            value = float(re.sub(r"[.,]", "", number))
        else:
            value = float(number.replace(",", "."))
        if unit:
            value *= _UNITS[unit]
        elif not said_rupiah and value < 10_000:
            continue
        if value >= 1_000:
            return int(round(value))
    return None


def flat_words(text: str) -> str:
    """The text's words, lower case, one space apart: punctuation and spacing dropped ("J&T" is
    "j t"). Word lists meant for `mentions` are read the same way."""
    return " ".join(re.findall(r"[\w-]+", (text or "").lower()))


# enclitics that leave a word the same word: "kurirnya", "cicilanku", "adminmu"
ENCLITICS = ("nya", "ku", "mu")


def word_forms(words) -> Tuple[str, ...]:
    """A word list as `mentions` reads text (`flat_words`), each single word also with an enclitic
    ("kurir": "kurirnya"): for the word lists analysts edit in business/."""
    flat = [flat_words(word) for word in words]
    return tuple(dict.fromkeys(flat + [word + suffix for word in flat if " " not in word for suffix in ENCLITICS]))


@lru_cache(maxsize=256)
def _any_of(words: Tuple[str, ...]) -> re.Pattern[str]:
    """One compiled pattern per word list: hundreds of words searched one by one overflow the
    `re` module's cache of 512 patterns and are compiled again on every message."""
    alternatives = "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def mentions(text: str, words) -> bool:
    """Whether `text` holds one of `words` (lower-case) as whole words: "atm" in "lewat atm",
    not in "batmobil"; punctuation and spacing do not matter."""
    listed = tuple(word for word in words if word)
    return bool(listed) and _any_of(listed).search(flat_words(text)) is not None


_VOWELS = frozenset("aeiou")


def unstretched(word: str) -> str:
    """`word` with every run of one letter as one letter: "cicilaaan" and "cicilan" read alike."""
    return re.sub(r"(\w)\1+", r"\1", word)


def skeleton(word: str) -> str:
    """The first letter and the consonants after it: "bayar" and "byr" are both "byr"."""
    return word[:1] + "".join(letter for letter in word[1:] if letter not in _VOWELS)


def drops_only_vowels(short: str, word: str) -> bool:
    """`short` is `word` with some of its vowels left out ("cicln", "angsrn", "tghn")."""
    letters = iter(word)
    return all(letter in letters for letter in short) and skeleton(short) == skeleton(word)


@lru_cache(maxsize=64)
def _loose_index(words: Tuple[str, ...]) -> Tuple[frozenset, Dict[str, Tuple[str, ...]]]:
    """The list's single words unstretched, and by their skeleton (three consonants at least)."""
    single = [word for word in words if word and " " not in word]
    by_skeleton: Dict[str, Tuple[str, ...]] = {}
    for word in single:
        if len(skeleton(word)) >= 3:
            by_skeleton[skeleton(word)] = (*by_skeleton.get(skeleton(word), ()), word)
    return frozenset(unstretched(word) for word in single), by_skeleton


def mentions_loosely(text: str, words) -> bool:
    """`mentions`, and also a word of `words` as customers type it in a hurry: letters stretched
    ("cicilaaan"), an enclitic "q" ("angsuranq") or vowels left out ("cicln", "byr", "angsrn";
    three consonants at least, the first letter kept). For lists of a few dozen words that a
    message must name, where missing one holds a customer's question back."""
    listed = tuple(word for word in words if word)
    if mentions(text, listed):
        return True
    stretched, by_skeleton = _loose_index(listed)
    for typed in flat_words(text).split():
        for form in (typed, typed[:-1] if typed.endswith("q") else None):
            if not form or len(form) < 3:
                continue
            if unstretched(form) in stretched or any(
                len(form) < len(word) and drops_only_vowels(form, word) for word in by_skeleton.get(skeleton(form), ())
            ):
                return True
    return False


# --- what an insurance claim's opening message already tells ------------------------------------

# what happened to the car (the event of a claim), and the words around a request for a claim that
# describe nothing ("mau klaim asuransi karena kecelakaan kak" names the event and nothing more)
INCIDENT_EVENTS = word_forms(
    "tabrak ditabrak nabrak menabrak tertabrak tabrakan kecelakaan serempet diserempet keserempet "
    "nyerempet menyerempet banjir kebanjiran terendam terbakar kebakaran terbalik terguling "
    "tertimpa kejatuhan dilempar dibaret kegores tergores nyungsep masuk jurang".split(" ")
)
_NOT_A_DESCRIPTION = frozenset(
    "mau ingin pengen minta mohon tolong bantu bantuin klaim claim asuransi ajukan mengajukan lapor "
    "melapor laporkan saya sy aku gue gw kami mobil kendaraan unit karena krn soalnya gara kena "
    "kak min pak bu mas mba mbak gan sis dong deh ya yaa nih sih aja saja gimana bagaimana caranya "
    "cara bisa bisakah untuk utk buat yang yg ini itu dan halo hai pagi siang sore malam".split()
)
CAR_PARTS = word_forms(
    "bemper bumper kaca spion pintu lampu bodi body mesin kap fender velg ban atap grill "
    "bagasi kaca depan kaca belakang".split(" ")
)
DAMAGE_WORDS = word_forms(
    "penyok peyok lecet baret gores pecah retak rusak hancur copot lepas ringsek patah bengkok mati".split()
)


def describes_incident(text: str) -> bool:
    """The message tells what happened ("mobil saya ditabrak dari belakang pas lampu merah, mau
    klaim"), not only that something did ("mau klaim asuransi kecelakaan")."""
    if not mentions(text, INCIDENT_EVENTS):
        return False
    told = [word for word in flat_words(text).split() if word not in _NOT_A_DESCRIPTION]
    return len(told) >= 3


def names_damage(text: str) -> bool:
    """The message names a damaged part of the car ("bemper belakang penyok")."""
    return mentions(text, CAR_PARTS) and mentions(text, DAMAGE_WORDS)


# where it happened, when the words name it: a road, a toll road or an area by its name ("di tol
# cikampek km 57", "di jl. sudirman", "daerah cibubur"); "di jalan pulang", "di depan rumah" and
# "di parkiran" name no place staff could find
_NAMED_PLACE = re.compile(
    r"\b(?:(?:di|dekat|deket|dkt|sekitar|arah)\s+(?:jalan|jln|jl\.?|tol|km|gang|gg\.?)|daerah|kawasan|wilayah)"
    r"\s*[\w.]+(?:\s+[\w.]+){0,3}",
    re.IGNORECASE,
)
_PLACE_PREPOSITION = re.compile(r"^(?:di|dekat|deket|dkt|sekitar|arah)\s+", re.IGNORECASE)
# words that end a place's name ("tol cikampek tadi pagi"), and words that are no name themselves
_PLACE_ENDS = frozenset(
    "ke menuju arah pulang pergi mobil saya sy aku gue gw tadi pas jam waktu saat ketika dan terus trus lalu "
    "mau kemarin kmrn pagi siang sore malam subuh yang yg itu ini sana sini situ".split()
)
_NOT_A_NAME = frozenset(
    "raya tol jalan jln jl jl. besar kecil utama lama baru rumah kantor biasa umum industri perumahan".split()
)


# any word that says where, named or not ("di depan rumah", "parkiran mall", "jl melati 5")
_SAYS_WHERE = re.compile(
    r"\b(?:di|dekat|deket|dkt|depan|belakang|samping|dalam|sekitar\s+(?!jam|pukul|tanggal|tgl)\w+|arah|jalan|jln|jl|"
    r"tol|gang|gg|km|parkir\w*|rumah|kantor|daerah|kawasan|wilayah|kota|kabupaten|kecamatan|kelurahan|desa|"
    r"pasar|mall|toko|pom|spbu|rs|rumah\s+sakit)\b",
    re.IGNORECASE,
)


def says_where(text: str) -> bool:
    """ "di depan rumah", "parkiran mall kemarin": the answer says where; "semalam sekitar jam 2"
    does not."""
    return bool(_SAYS_WHERE.search(text or ""))


def named_place(text: str) -> Optional[str]:
    """ "ditabrak truk di tol cikampek km 57 tadi pagi" -> "tol cikampek km 57": the road or area
    a report names, up to the first word that is no part of a name; None when it names none."""
    for match in _NAMED_PLACE.finditer(text or ""):
        words = _PLACE_PREPOSITION.sub("", match.group(0)).split()
        kept = [words[0]]
        for word in words[1:]:
            if word.lower().strip(".,") in _PLACE_ENDS:
                break
            kept.append(word.strip(".,"))
        if any(word.lower() not in _NOT_A_NAME for word in kept[1:]):
            return " ".join(kept)
    return None


# --- who is who in a report ------------------------------------------------------------------

_KIN = (
    r"adik|adek|kakak|kaka|abang|istri|isteri|suami|anak|ayah|bapak|papa|papi|ibu|mama|mamah|mami|ortu|"
    r"orang\s*tua|paman|om|tante|bibi|sepupu|keponakan|ponakan|mertua|menantu|ipar|saudara|sodara|"
    r"teman|temen|kawan|rekan|tetangga|pembeli|kakek|nenek|cucu"
)
# "over kredit ke adik saya", "mau dioper sama teman kantor": to whom the credit goes
_TO_WHOM = re.compile(rf"\b(?:ke|kepada|sama|untuk|buat)\s+(?:si\s+)?({_KIN})\b", re.IGNORECASE)
# "suami saya meninggal", "ayah kami wafat": the debtor, by the reporter's word for them
_WHO_DIED = re.compile(
    rf"\b({_KIN})\s+(?:saya|sy|aku|kami|gw)\s+(?:\w+\s+)?(?:meninggal|wafat|berpulang|tutup\s+usia|almarhum|alm\b)",
    re.IGNORECASE,
)
# "saya anaknya pak hendra", "saya istri almarhum": the reporter's own word for themself
_I_AM = re.compile(
    rf"\b(?:saya|sy|aku)\s+(?:ini\s+)?({_KIN})(?:nya)?\s+(?:dari\s+)?(?:alm|almarhum\w*|pak|bu|bapak|ibu|debitur)",
    re.IGNORECASE,
)
# the reporter is to the debtor what the debtor is not: "suami saya meninggal" -> istri
_INVERSE = {
    "suami": "istri",
    "istri": "suami",
    "isteri": "suami",
    "ayah": "anak",
    "bapak": "anak",
    "papa": "anak",
    "papi": "anak",
    "ibu": "anak",
    "mama": "anak",
    "mamah": "anak",
    "mami": "anak",
    "ortu": "anak",
    "orang tua": "anak",
    "anak": "orang tua",
    "kakak": "adik",
    "kaka": "adik",
    "abang": "adik",
    "adik": "kakak",
    "adek": "kakak",
    "mertua": "menantu",
    "menantu": "mertua",
    "kakek": "cucu",
    "nenek": "cucu",
}


def _kin(match: re.Match) -> str:
    """The relation word a pattern caught, lower case, one space ("Orang  tua" -> "orang tua")."""
    return re.sub(r"\s+", " ", match.group(1).lower())


def candidate_relation_in(text: str) -> Optional[str]:
    """ "mau over kredit ke adik saya" -> "adik": who the new debtor is to the customer."""
    match = _TO_WHOM.search(text or "")
    return _kin(match) if match else None


def reporter_relation_in(text: str) -> Optional[str]:
    """ "suami saya meninggal kemarin" -> "istri", "saya anaknya pak hendra" -> "anak": who the
    reporter is to the debtor who died; None when the words do not say (or say it ambiguously:
    "saudara", "teman" are the same both ways and kept as said)."""
    told = _I_AM.search(text or "")
    if told:
        return _kin(told)
    died = _WHO_DIED.search(text or "")
    if not died:
        return None
    word = _kin(died)
    return _INVERSE.get(word, word)


# --- several questions in one message -------------------------------------------------------------

# where one question ends and another begins: "denda saya berapa? terus bpkb kapan bisa diambil?",
# "mau tanya autodebet sama denda saya", "bpkb kapan bisa diambil dan stnk gimana perpanjangnya"
_CLAUSE_BREAK = re.compile(
    r"[?!;.,\n]+|\b(?:terus|trus|trs|lalu|kemudian|sama|sm|dan|dn|serta|juga|jg|plus|sekalian|"
    r"satu\s+lagi|satu\s+lg|btw|oh\s+iya|oh\s+ya)\b",
    re.IGNORECASE,
)


def _pieces(text: str, breaks: re.Pattern[str], min_words: int) -> List[Tuple[int, int]]:
    """The (start, end) offsets of the text's pieces between `breaks`, of `min_words` words or more."""
    spans, start = [], 0
    for match in [*breaks.finditer(text or ""), None]:
        end = match.start() if match else len(text or "")
        if len(re.findall(r"\w+", (text or "")[start:end])) >= min_words:
            spans.append((start, end))
        start = match.end() if match else end
    return spans


def clause_spans(text: str, min_words: int = 2) -> List[Tuple[int, int]]:
    """The (start, end) offsets of the message's clauses of at least `min_words` words, split
    where a question or a conjunction separates them; one span, or none, for a single question."""
    return _pieces(text, _CLAUSE_BREAK, min_words)


# --- a debit taken twice ----------------------------------------------------------------------------

_TWICE = re.compile(
    r"(?<!tanggal )(?<!tgl )\b(?:2|dua)\s*(?:x|kali)\b|\b(?:double|dobel|ganda)\b", re.IGNORECASE
)  # not "tanggal 2 kali ini" (the 2nd, this time)
_TAKEN = re.compile(r"\b(?:ke|ter|di)?potong\w*|\b(?:di)?debe?[tk]\w*|\bauto\s*debe?t\w*|\bditagih\w*", re.IGNORECASE)


_FAILED_DEBIT = re.compile(
    rf"\b(?:gagal\w*|ditolak|(?:{_NO}|belum|blm)\s+"
    r"(?:(?:ke|ter|di)?potong\w*|(?:ke|ter|di)?debe?[tk]\w*|jalan|berhasil|masuk))\b",
    re.IGNORECASE,
)


def names_failed_debit(text: str) -> bool:
    """ "autodebet saya bulan ini gagal", "saldo ga kepotong": whether the debit went through,
    not when the next one is."""
    return bool(_FAILED_DEBIT.search(text or ""))


def names_double_debit(text: str) -> bool:
    """ "autodebet saya kepotong 2 kali bulan ini", "saldo terpotong double": a debit taken twice,
    which is a complaint (money to give back), not a question about the schedule."""
    return bool(_TWICE.search(text or "")) and bool(_TAKEN.search(text or ""))


# --- the STNK's yearly tax, which needs no BPKB ------------------------------------------------------

_YEARLY = re.compile(r"\b(?:tahunan|setahun|(?:1|satu)\s*(?:tahun|thn)|per\s*tahun|tiap\s*tahun)\b", re.IGNORECASE)
_FIVE_YEARLY = re.compile(
    r"\b(?:5|lima)\s*(?:tahun\w*|thn)|\bganti\s*plat|\bplat\s*(?:nomor|baru)|\btnkb\b|\bbalik\s*nama", re.IGNORECASE
)


def names_yearly_tax(text: str) -> bool:
    """ "pajak stnk tahunan gimana, perlu bpkb ga?": the yearly tax (no BPKB needed), not the
    five-yearly renewal with new plates (which needs the original BPKB)."""
    return bool(_YEARLY.search(text or "")) and not _FIVE_YEARLY.search(text or "")


# --- questions about how things work, not about one's own account --------------------------------

_MINE = re.compile(r"\b(?:saya|sy|aku|ak|gue|gw|gua|kami|punyaku|punya\s+saya|dendaku|kontrakku)\b", re.IGNORECASE)
_HOW_LATE_FEES_WORK = re.compile(
    r"\b(?:dihitung\w*|hitungan\w*|perhitungan\w*|menghitung\w*|persen\w*|aturan\w*|ketentuan\w*|"
    r"per\s*hari|sehari|perhari|berapa\s+%)|%",
    re.IGNORECASE,
)
_HOW_AUTODEBIT_WORKS = re.compile(
    r"\b(?:cara|caranya|gimana|bagaimana|gmn|bgmn|syarat\w*|mau|ingin|pengen)\b.*"
    r"\b(?:daftar\w*|mendaftar|registrasi|berhenti\w*|stop|batal\w*|nonaktif\w*|ganti\s+rek\w*|pindah\s+rek\w*)",
    re.IGNORECASE,
)
_WHEN_DEBITED = re.compile(r"\b(?:kapan|tanggal|tgl|jadwal|dipotong|kepotong|terpotong|didebet|libur)\b", re.IGNORECASE)


def asks_how_late_fees_work(text: str) -> bool:
    """ "denda keterlambatan dihitungnya gimana?", "dendanya berapa persen per hari": the rule,
    the same for everyone; not "denda saya berapa"."""
    return bool(_HOW_LATE_FEES_WORK.search(text or "")) and not _MINE.search(text or "")


def asks_how_autodebit_works(text: str) -> bool:
    """ "cara daftar autodebet bca gimana", "mau berhenti autodebet": how to register or stop,
    the same for everyone; not when the schedule is asked ("kapan dipotong")."""
    return bool(_HOW_AUTODEBIT_WORKS.search(text or "")) and not _WHEN_DEBITED.search(text or "")


# --- a customer who cannot pay -----------------------------------------------------------------------

_HARDSHIP = re.compile(
    r"\b(?:restruktur\w*|keringanan(?!\s+denda)|relaksasi|rescheduling|reschedule|kena\s+phk|di\s*-?\s*phk|"
    rf"bangkrut|(?:{_NO}|belum|blm)\s+(?:sanggup|mampu|kuat|bisa)\s+(?:bayar|membayar|nyicil)|"
    r"(?:mau|akan|mo)\s+ditarik)\b",
    re.IGNORECASE,
)
_TAKEOVER_WORDS = re.compile(
    r"\b(?:over\s*kredit|oper\s*kredit|take\s*over|takeover|alih\s*debitur|oper\s+ke)\b", re.IGNORECASE
)


def names_hardship(text: str) -> bool:
    """ "mobil saya mau ditarik, saya belum bisa bayar 3 bulan", "bisa restrukturisasi karena kena
    phk?": a customer who cannot pay, for staff (relief is decided case by case); not one who
    wants to hand the credit over ("ga sanggup bayar, mau over kredit aja" is a takeover)."""
    return bool(_HARDSHIP.search(text or "")) and not _TAKEOVER_WORDS.search(text or "")


_DAYS_LATE = re.compile(r"\b(\d{1,3}|se)\s*(hari|hr|minggu|pekan)\b", re.IGNORECASE)


def days_late_asked(text: str) -> Optional[int]:
    """ "kalau telat bayar 5 hari dendanya berapa", "mundur seminggu": the number of days late the
    question supposes."""
    match = _DAYS_LATE.search(text or "")
    if not match:
        return None
    count = 1 if match.group(1).lower() == "se" else int(match.group(1))
    days = count * (7 if match.group(2).lower() in ("minggu", "pekan") else 1)
    return days if 0 < days <= 366 else None


# paying this instalment later than its due date ("bisa mundur seminggu? belum gajian"): not a
# payment made, nor a new due date for good
_LATER = re.compile(
    r"\b(?:mundur\w*|diundur\w*|undur\w*|tunda\w*|ditunda\w*|telat\s+(?:sedikit|dikit|bayar|seminggu)|"
    r"(?:belum|blm|nunggu|tunggu|setelah|habis|abis|sesudah)\s+gaji\w*|bayar\s+(?:nanti|belakangan|telat)|"
    r"minta\s+(?:waktu|tempo))\b",
    re.IGNORECASE,
)


def asks_to_pay_later(text: str) -> bool:
    """ "mau bayar cicilan bulan ini tapi belum gajian, bisa mundur seminggu?": this instalment
    paid after its due date; not a payment already made."""
    return bool(_LATER.search(text or "")) and not _PAID.search(text or "")


# the customer's other contract, without naming it ("kalau yang satunya?", "mobil yang lain gimana",
# "kontrak kedua"); not "yang lain" alone, which also asks about something else ("ada yang lain?")
_THE_OTHER = re.compile(
    r"\b(?:yang|yg)\s+(?:satu(?:nya|\s+lagi)|kedua)\b|"
    r"\b(?:kontrak|mobil|unit|kendaraan|motor|cicilan|angsuran)\w*\s+(?:(?:yang|yg)\s+)?(?:lain(?:nya)?|satunya|kedua|satu\s+lagi)\b",
    re.IGNORECASE,
)


# the words around a follow-up that only points to another contract ("yang yaris cross juga
# dong", "kalau raize nya gimana kak")
_POINTING = frozenset(
    (
        "yang yg kalau kalo klo kl juga jg dong donk deh sih gimana gmn gmana bagaimana nya ya yah kak kakak min "
        "admin mas mba mbak pak bu sekalian sama punya saya sy aku mobil unit kontrak satunya lain lainnya"
    ).split()
)


def only_points_to(text: str, words: Iterable[str]) -> bool:
    """ "yang yaris cross juga dong": nothing in the text but `words` (a contract's car, plate or
    number) and the words around a follow-up."""
    named = {word.lower() for word in words}
    said = flat_words(text).split()
    return bool(said) and all(word in named or word in _POINTING for word in said)


def names_the_other(text: str) -> bool:
    """ "kalau yang satunya?": another contract than the one just talked about, not named."""
    return bool(_THE_OTHER.search(text or ""))


# someone else collecting for the customer ("bisa diambil sama adik saya?", "boleh diwakilkan?",
# "kalau yang ambil istri saya gimana", "pakai surat kuasa bisa?")
_BY_PROXY = re.compile(
    r"\b(?:di\s*wakil(?:kan|i)|wakil\w*|surat\s+kuasa|di\s*kuasakan|orang\s+lain|"
    r"(?:di\s*ambil\w*|ambil\w*|ngambil\w*|di\s*urus\w*|datang\w*|dateng\w*)\s+(?:sama|oleh|ama|sm|lewat)\s+(?!saya\b|sy\b|aku\b)\w+|"
    r"(?:yang|yg)\s+(?:ambil|ngambil|mengambil|datang|dateng|urus|ngurus)\s+(?!saya\b|sy\b|aku\b|sendiri\b)\w+)",
    re.IGNORECASE,
)


def asks_by_proxy(text: str) -> bool:
    """ "bisa diambil sama adik saya?": whether someone else may collect for the customer."""
    return bool(_BY_PROXY.search(text or ""))


# paying the whole credit off, not what is due ("lunasin semua", "pelunasan", "sisa hutang")
_PAYOFF_WORDS = re.compile(
    r"\b(?:lunas\w*|melunasi|pelunasan|dilunasi|sisa\w*|semua\w*|seluruh\w*|dipercepat|percepat\w*|"
    r"payoff|tutup\s+kredit|sekaligus)\b",
    re.IGNORECASE,
)


def names_payoff(text: str) -> bool:
    """ "kalau mau lunasin semua berapa": the whole credit; "bayar hari ini totalnya berapa" is not."""
    return bool(_PAYOFF_WORDS.search(text or ""))


# the bill is not what it was ("kenapa cicilan saya bulan ini lebih besar", "kok tagihan beda sama
# bulan lalu", "angsuran naik ya?")
_BILL = re.compile(r"\b(?:angsuran\w*|cicilan\w*|tagihan\w*|bayaran\w*|nominal\w*)\b", re.IGNORECASE)
_CHANGED = re.compile(
    r"\b(?:lebih\s+(?:besar|gede|mahal|banyak|tinggi)|naik|beda|berbeda|berubah|bertambah|nambah|membengkak|"
    r"ga\s+sama|gak\s+sama|nggak\s+sama|tidak\s+sama)\b",
    re.IGNORECASE,
)


def asks_why_bill_changed(text: str) -> bool:
    """ "kenapa cicilan saya bulan ini lebih besar dari biasanya?": why the bill differs."""
    return bool(_BILL.search(text or "")) and bool(_CHANGED.search(text or ""))


_BRANCH_CONTACT = re.compile(
    r"\b(?:alamat\w*|telepon\w*|telpon\w*|telp|tlp|no\.?\s*hp|nomor\s+hp|kontak\w*|contact|lokasi\w*|maps?|"
    r"di\s*mana|dmn)\b",
    re.IGNORECASE,
)


def asks_branch_contact(text: str) -> bool:
    """ "minta nomor telepon cabang bandung", "alamat cabang medan": a branch's address or phone,
    which the office-hours answer gives (with the branch's hours)."""
    return bool(_BRANCH_CONTACT.search(text or ""))


_TO_PAY = re.compile(
    r"\b(?:bayar\w*|byr|membayar|dibayar|pembayaran|nyicil|setor|nyetor|lunasin|melunasi)\b", re.IGNORECASE
)
# a payment already made ("padahal sudah setor", "udh bayar lewat atm"): whether it arrived, not how
_PAID = re.compile(
    r"\b(?:sudah|sdh|udah|udh|dah|telah|tadi|kemarin|kmrn|barusan)\s+(?:\w+\s+)?"
    r"(?:bayar\w*|byr|membayar|dibayar|setor|nyetor|transfer|tf|lunas|dilunasi|melunasi|lunasin)\b",
    re.IGNORECASE,
)


_STILL_BILLED = re.compile(
    r"\b(?:tunggak\w*|nunggak\w*|ditagih\w*|tagihan\w*|belum\s+masuk|blm\s+masuk|belum\s+tercatat|"
    r"belum\s+ter-?update|belum\s+update|blm\s+update|dibilang\s+telat|masih\s+telat|kena\s+denda)\b",
    re.IGNORECASE,
)


def says_paid_yet_billed(text: str) -> bool:
    """ "saya dapat sms tunggakan padahal sudah setor": a payment made that the bills do not show."""
    return bool(_PAID.search(text or "")) and bool(_STILL_BILLED.search(text or ""))


def asks_to_pay(text: str) -> bool:
    """ "aku mau bayar via shopeepay bisa?": a word for paying, not about a payment already made;
    with a way to pay named (business/payment_channels.yml) it is a question of how to pay."""
    return bool(_TO_PAY.search(text or "")) and not _PAID.search(text or "")


# where or through what a payment goes ("bayarnya kemana?", "setor lewat mana", "cara bayarnya"); not
# "gimana" alone: "kalau telat bayar gimana" asks about the fee
_WHERE_TO = re.compile(
    r"\b(?:ke\s*mana|kmn|di\s*mana|dmn|lewat\s+(?:mana|apa)|pa?ke\s+apa|pakai\s+apa|via\s+apa|"
    r"rekening\s+(?:mana|apa)|cara\w*)\b",
    re.IGNORECASE,
)


def asks_where_to_pay(text: str) -> bool:
    """ "oke, bayarnya kemana?": where or through what to pay, a payment still to make."""
    return asks_to_pay(text) and bool(_WHERE_TO.search(text or ""))


# not wanting our messages any more ("stop kirim promo ke saya", "saya ga mau dapat info wa lagi"):
# a wish to stop, and a kind of message
_STOP_WISH = re.compile(
    r"\b(?:stop|setop|berhenti\w*|hentikan|henti|jangan|jgn|unsubscribe|unsub|keluar\s+dari|"
    rf"(?:{_NO})\s+(?:usah|mau|perlu|ingin|pengen)|gamau|gausah|ogah)\b",
    re.IGNORECASE,
)
_OUR_MESSAGES = re.compile(
    r"\b(?:pesan|promo\w*|whatsapp|wa|notif\w*|pemberitahuan|broadcast|bc|spam|blast|sms|pengingat|"
    r"reminder|iklan|langganan|berlangganan)\b",
    re.IGNORECASE,
)


def asks_to_stop_messages(text: str) -> bool:
    """ "stop kirim pesan promo ke saya", "saya ga mau dapat info wa lagi": no more of our messages."""
    return bool(_STOP_WISH.search(text or "")) and bool(_OUR_MESSAGES.search(text or ""))


_FOR_LESS = re.compile(
    r"\b(?:diskon\w*|discount|potongan|potong\s+harga|korting|cashback|lebih\s+murah|lebih\s+hemat|"
    r"hemat\s+berapa|untung\w*|hapus\w*|dihapus\w*|diputihkan|pemutihan|keringanan|diringankan|"
    r"dikurangi\w*|kurangin|gratis|bebas\s+denda|dibebaskan)\b",
    re.IGNORECASE,
)


def asks_for_less(text: str) -> bool:
    """ "ada diskon ga kalau lunas dipercepat?", "bisa dihapus ga dendanya?": whether it can cost
    less than the figure."""
    return bool(_FOR_LESS.search(text or ""))


_BY_EMAIL = re.compile(r"\b(?:e-?mail\w*|imel|surel|gmail)\b", re.IGNORECASE)


def asks_by_email(text: str) -> bool:
    """ "kirim ke email aja": a document wanted by e-mail rather than in the chat."""
    return bool(_BY_EMAIL.search(text or ""))


_CONTRACT_WORD = re.compile(r"\bkontrak\w*", re.IGNORECASE)
_NOT_AT_HAND = re.compile(
    r"\b(?:lupa|dimana|di\s+mana|dmn|liat|lihat|cari|nyari|tau|tahu|hilang|ilang|ketemu|punya)\b", re.IGNORECASE
)


def asks_where_contract_number(text: str) -> bool:
    """ "nomor kontrak liat dimana ya", "saya ga tau nomor kontraknya": where to find it."""
    return bool(_CONTRACT_WORD.search(text or "")) and bool(_NOT_AT_HAND.search(text or ""))


_NO_WORD = re.compile(r"^[\W_]*$")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def emoji_only(text: str) -> bool:
    """ "👍", "🙏🙏": emoji and nothing else but spaces and punctuation."""
    return bool(_NO_WORD.match(text or "")) and bool(_EMOJI.search(text or ""))


# sounds typed while thinking or laughing, no word ("hmm", "ehm", "haha", "wkwk"); not "oh" nor
# "p" ("oh" takes in an answer, "P" pings the chat like a greeting), nor one syllable of a laugh
# ("hah" is puzzled, "hai" greets)
_SOUND = re.compile(
    r"(?:h+m+|m{2,}|e+h*m+|u+h*m+|u+h+|a+h+|e+h+|(?:h+a+){2,}h*|(?:h+e+){2,}h*|(?:h+i+){2,}h*|(?:h+u+){2,}h*"
    r"|(?:w+k+)+w*|(?:x+i+){2,})"
)


def wordless(text: str) -> bool:
    """ "?", "...", "hmm", "haha": no word (sounds are none) and no emoji; it means nothing."""
    if _EMOJI.search(text or ""):
        return False
    return bool(_NO_WORD.match(text or "")) or all(_SOUND.fullmatch(word) for word in flat_words(text).split())


# the words of asking to complain, and of greeting and politeness around it: a complaint made of
# these alone ("saya mau komplain", "min mau ngadu dong") says nothing of what happened
_ASKING_TO_COMPLAIN = frozenset(
    (
        "komplain komplen complain complaint keluhan keluh ngeluh mengeluh pengaduan aduan ngadu mengadu "
        "lapor laporan melapor protes kritik saran "
        "saya sy aku gue gw mau ingin pengen pgn mo akan tolong mohon bisa boleh dong ya yah nih sih deh "
        "min admin kak kakak gan pak bu mas mba mbak sis halo hai hallo pagi siang sore malam selamat permisi "
        "assalamualaikum ada punya satu hal buat bikin membuat ajukan mengajukan sampaikan menyampaikan "
        "gimana bagaimana caranya cara dimana kemana ke mana sama dengan ini itu nya"
    ).split()
)


# the words of announcing a question, and of greeting and politeness around it: a message made of
# these alone ("min mau nanya dong", "permisi kak, boleh tanya?") asks nothing yet
# (not "bantu": "tolong dibantu ya kak" answers the bot's "Mau saya ajukan?" with a yes)
_ASKING_WORDS = frozenset("tanya nanya bertanya tanya2 nanya2 tanyain konsultasi".split())
_ANNOUNCING = _ASKING_WORDS | frozenset(
    (
        "saya sy aku gue gw mau ingin pengen pgn mo tolong mohon minta bisa boleh dong donk ya yah nih sih deh "
        "min admin kak kakak gan pak bu mas mba mbak sis bro halo hai hallo pagi siang sore malam selamat "
        "permisi misi punten assalamualaikum sesuatu dikit sedikit lagi dulu nanti kah apa"
    ).split()
)


def _made_of(text: str, needed: frozenset, around: frozenset) -> bool:
    """The text has one of `needed` and no word but those and `around`."""
    words = flat_words(text).split()
    return any(word in needed for word in words) and all(word in needed or word in around for word in words)


def announces_a_question(text: str) -> bool:
    """ "min mau nanya dong", "boleh tanya?": a question announced, none asked."""
    return _made_of(text, _ASKING_WORDS, _ANNOUNCING)


def _pairs(firsts: str, seconds: str) -> frozenset:
    """Every pair of neighbouring words ("sampai", "nanti") from two lists of words."""
    return frozenset((first, second) for first in firsts.split() for second in seconds.split())


# the ways customers address whoever answers the chat ("admin", "gan", "mas", "permisi kak")
# (the short ones only call: "kakak saya", "bapak saya", "admin lambat" also name someone)
VOCATIVES = frozenset("min mimin kak gan agan sis mas mba mbak bro pak bu".split())
_CALLING = VOCATIVES | frozenset("admin kakak bapak ibu".split())
# greetings that stand alone, in Indonesian, Sundanese ("punten", "sampurasun") and Javanese
# (not "ya": "ya pak" answers a yes-or-no question)
_GREETING_WORDS = frozenset(
    "halo hai hallo hello helo hi permisi misi punten sampurasun assalamualaikum wr wb warahmatullahi "
    "wabarakatuh".split()
)
# a time of day greets only after a wish ("sugeng enjing", "met pagi"): "pagi kak" alone may
# answer the bot's "Kapan kejadiannya?"
_GREETING = _CALLING | _GREETING_WORDS
_WISHED_TIMES = _pairs("selamat slamat met sugeng wilujeng", "pagi siang sore malam enjing sonten ndalu dalu wengi")


def _without_pairs(words: List[str], pairs: frozenset) -> Tuple[List[str], bool]:
    """The words with every listed pair of neighbours taken out, and whether there was one."""
    rest: List[str] = []
    found, index = False, 0
    while index < len(words):
        if tuple(words[index : index + 2]) in pairs:
            found, index = True, index + 2
            continue
        rest.append(words[index])
        index += 1
    return rest, found


def only_greets(text: str) -> bool:
    """ "admin", "gan?", "permisi mas", "sugeng enjing min", "punten": a greeting or the chat's
    answerer called, nothing asked yet."""
    rest, wished = _without_pairs(flat_words(text).split(), _WISHED_TIMES)
    return (wished or bool(rest)) and all(word in _GREETING for word in rest)


# words that end a chat on their own ("bye", "pamit", "sekian"), and pairs that do ("sampai
# nanti", "see you"); not "dah" ("dah" also answers "Sudah transfer?") nor "cukup" alone
_FAREWELL_WORDS = frozenset(
    "bye byee byebye bye2 dadah dadaah babay bubay pamit wassalam wassalamualaikum sekian udahan".split()
)
_PARTING = (
    _pairs("sampai sampe ampe", "nanti jumpa ketemu bertemu besok lusa")
    | _pairs("see", "you ya u")
    | _pairs("selamat slamat", "tinggal jalan")
)
# what customers wrap a farewell in: thanks, an okay, the answerer's name, "that's all"
_AROUND_FAREWELL = _CALLING | frozenset(
    (
        "lagi ya yaa dulu deh dong ok oke okay okey sip baik makasih makasi mksh trimakasih terimakasih "
        "terima trima kasih thanks thank thx tq trims nuhun matur nuwun cukup udah sudah udh sdh dah "
        "saya sy aku kita"
    ).split()
)


def bids_farewell(text: str) -> bool:
    """ "sampai nanti", "ya udah min, makasih, sampai ketemu", "cukup sekian, terima kasih": the
    customer ends the chat (thanks said with a farewell is still one)."""
    rest, paired = _without_pairs(flat_words(text).split(), _PARTING)
    said = paired or any(word in _FAREWELL_WORDS for word in rest)
    return said and all(word in _FAREWELL_WORDS or word in _AROUND_FAREWELL for word in rest)


# --- the courtesies around a question ------------------------------------------------------------

# "Selamat pagi, Bapak/Ibu. Saya ingin menanyakan jumlah angsuran saya bulan ini. Terima kasih.":
# the opening sentences that only greet (or apologise for the trouble) and the closing ones that
# only thank
_OPENING = _GREETING | frozenset(
    "maaf mohon mengganggu ganggu waktunya waktu sebelumnya salam sejahtera om swastiastu shalom".split()
)
_OPENS = _GREETING_WORDS | frozenset("maaf".split())
_THANKS_WORDS = frozenset(
    "makasih makasi mksh mkasih trimakasih terimakasih kasih thanks thank thx tq trims nuhun hatur nuwun "
    "bantuannya infonya perhatiannya wassalam wassalamualaikum".split()
)
_CLOSING = (
    _CALLING
    | _THANKS_WORDS
    | frozenset("terima trima matur banyak sebelumnya atas mohon ya yaa sekali you sangat".split())
)
_SENTENCE_BREAK = re.compile(r"[.,!?;\n]+")


def _opens(words: List[str]) -> bool:
    rest, wished = _without_pairs(words, _WISHED_TIMES)
    greets = wished or any(word in _OPENS for word in rest) or all(word in _CALLING for word in rest)
    return greets and all(word in _OPENING for word in rest)


def _closes(words: List[str]) -> bool:
    return any(word in _THANKS_WORDS for word in words) and all(word in _CLOSING for word in words)


def without_courtesies(text: str) -> Optional[Tuple[int, int]]:
    """Where the message's question lies once its opening greetings ("Selamat pagi, Bapak/Ibu.",
    "Permisi, mohon maaf mengganggu.") and closing thanks ("Terima kasih banyak.") are left out:
    (start, end), or None when there are none, or fewer than four words are left ("siap, makasih
    infonya" thanks; "selamat malam, mimpi indah ya" is a farewell). A thanks that opens the
    message is its point ("terima kasih min, membantu banget") and stays."""
    text = text or ""
    pieces = _pieces(text, _SENTENCE_BREAK, 1)
    first, last = 0, len(pieces)
    while first < last and _opens(flat_words(text[slice(*pieces[first])]).split()):
        first += 1
    while last > first and _closes(flat_words(text[slice(*pieces[last - 1])]).split()):
        last -= 1
    if first == last or (first, last) == (0, len(pieces)):
        return None
    start, end = pieces[first][0], pieces[last - 1][1]
    return (start, end) if len(flat_words(text[start:end]).split()) >= 4 else None


# a customer who did not follow what the bot said: "hah?", "hah gimana", "maksudnya?" (not "apa"
# alone nor "hmm": "apa" may start a question, "hmm" is thinking)
_PUZZLED = frozenset("ha hah heh hahh maksud maksudnya jawabannya jawabanmu nyambung".split())
_AROUND_PUZZLED = _CALLING | frozenset(
    "apa apaan gimana gmn bagaimana sih ya yah nih ini itu tuh kok gitu begitu gini begini aneh kurang jelas "
    "ga gak nggak ngga tidak".split()
)


# asking to be put through ("hubungkan ke agen dong", "bisa dihubungkan ke atasan kamu?"): a verb of
# connecting, and around it only the person asked for and the politeness of asking
_CONNECTING = frozenset(
    (
        "hubungkan hubungin dihubungkan sambungkan sambungin disambungkan alihkan alihin dialihkan oper operin "
        "operkan dioper teruskan terusin diteruskan transfer ditransfer connect"
    ).split()
)
_AROUND_CONNECTING = _CALLING | frozenset(
    (
        "saya sy aku gue gw ke kepada dengan dgn dg sama ama tolong mohon minta bisa bisakah boleh dong donk ya yaa "
        "aja saja langsung bagian yang yg please pls plis kamu kalian sini nya ini sekarang segera to with me"
    ).split()
)


def asks_to_be_put_through(text: str, people: Iterable[str]) -> bool:
    """ "hubungkan ke agen dong", "alihkan ke customer service": put through to one of `people`
    (business/subjects.yml), nothing else said ("oper kredit ke adik" says more)."""
    flat = flat_words(text)
    forms = _people(tuple(people))
    if not forms or not any(word in _CONNECTING for word in flat.split()):
        return False
    rest, named = _any_of(forms).subn(" ", flat)
    return named > 0 and all(word in _CONNECTING or word in _AROUND_CONNECTING for word in rest.split())


@lru_cache(maxsize=8)
def _people(people: Tuple[str, ...]) -> Tuple[str, ...]:
    """The people as `flat_words` reads them, with their enclitics; the verbs of connecting in
    the same list left out."""
    return tuple(form for form in word_forms(people) if form not in _CONNECTING)


def puzzled(text: str) -> bool:
    """ "hah?", "hah gimana", "maksudnya apa sih kak": the customer did not follow the bot."""
    return _made_of(text, _PUZZLED, _AROUND_PUZZLED)


def asks_to_complain_only(text: str) -> bool:
    """ "saya mau komplain", "min mau ngadu dong": asking to complain, nothing said of what about."""
    words = flat_words(text).split()
    return bool(words) and all(word in _ASKING_TO_COMPLAIN for word in words)
