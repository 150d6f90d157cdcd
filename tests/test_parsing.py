"""Reading what customers type, and how values are shown and masked."""

from __future__ import annotations

from datetime import date

import pytest

from crm import formatting
from crm.parsing import (
    asks_for_less,
    asks_to_pay,
    asks_to_pay_later,
    asks_to_stop_messages,
    asks_where_contract_number,
    asks_where_to_pay,
    begins_with_yes,
    days_late_asked,
    is_cancellation,
    is_salam,
    looks_like_a_name,
    looks_like_a_question,
    mentions,
    mentions_loosely,
    named_place,
    names_failed_debit,
    normalise_contract_number,
    normalise_plate,
    says_paid_yet_billed,
    without_courtesies,
    word_forms,
)
from crm.when import parse_date, parse_date_of_birth, parse_day_of_month

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("K10124000001", "K10124000001"),
        ("no kontrak sy k10124000001 min", "K10124000001"),
        ("K-101-24-000001", "K10124000001"),
        ("k 101 24 000001", "K10124000001"),
        ("K1012400000", None),  # one digit short
        ("10124000001", None),
        ("", None),
    ],
)
def test_contract_numbers(text, expected):
    assert normalise_contract_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "17-08-1985",
        "17 Agustus 1985",
        "17/8/85",
        "17 agt 1985",
        "17 agus 1985",
        "17.08.1985",
        "tgl lahir 17-08-1985",
        "lahir 17 agustus 1985",
        "1985-08-17",
        "17081985",
        "17 August 1985",
        # words after the digits once made dateparser read 13 September 1926
        "K10124000001 17-08-1985 jam buka cabang",
        "17-08-1985 mau tanya angsuran",
        "ini kak 17081985",
        "170885",  # six digits alone: day, month, year
        "tgl 17 bln 8 thn 1985",
        "tanggal 17 bulan 08 tahun 1985",
    ],
)
def test_dates_of_birth_in_usual_forms(text):
    assert parse_date_of_birth(text, today=TODAY) == date(1985, 8, 17)


@pytest.mark.parametrize(
    "text",
    [
        "besok",
        "31 februari 1985",
        "32-01-1990",
        "31-02-1985",
        "17-13-1985",
        "17-12-2030",
        "halo",
        "",
        "17 agustus",
        "482913",  # six digits that are no date (a one-time code)
        "kode 170885 ya",  # six digits among words are not read as a date
    ],
)
def test_not_a_date_of_birth(text):
    assert parse_date_of_birth(text, today=TODAY) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("besok", date(2026, 11, 23)),
        ("lusa", date(2026, 11, 24)),
        ("hari ini", TODAY),
        ("tanggal 1 juni", date(2027, 6, 1)),
        ("jam buka kantor besok", date(2026, 11, 23)),
        ("25 des", date(2026, 12, 25)),
        ("senin", date(2026, 11, 23)),
        ("pas lebaran", date(2027, 3, 9)),
        ("buka gak pas natal", date(2026, 12, 25)),
        ("kemarin", date(2026, 11, 21)),
    ],
)
def test_other_dates(text, expected):
    assert parse_date(text, today=TODAY) == expected


def test_no_date_in_plain_words():
    assert parse_date("jam buka kantor", today=TODAY) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tgl 25", 25),
        ("ke tanggal 5 aja", 5),
        ("25", 25),
        ("tgl 31", 31),
        ("0", 0),
        ("pindah ke tgl yg lain", None),
        ("tgl 5 atau 6", None),
        ("tanggal 5 bulan depan", 5),
        ("tgl 10 aja, mundur 2 minggu dari sekarang", 10),
        ("mundurin 2 minggu bisa?", None),
        ("5 hari lagi gajian", None),
        ("udah 3x minta ganti tanggal", None),
        ("yg paling deket sama tgl 8 deh, tgl 8 bisa?", 8),
    ],
)
def test_day_of_month(text, expected):
    assert parse_day_of_month(text) == expected


def test_plates():
    assert normalise_plate("plat b1234xyz") == "B 1234 XYZ"
    assert normalise_plate("nopol DK 77 AB") == "DK 77 AB"


def test_formatting_and_masking():
    assert formatting.rupiah(5120000) == "Rp5.120.000"
    assert formatting.long_date(date(2026, 12, 25)) == "Jumat, 25 Desember 2026"
    assert formatting.short_date(date(2026, 8, 17)) == "17 Agu 2026"
    assert formatting.mask_nik("3171011708850001") == "3171********0001"
    assert formatting.mask_phone("+6281210000001") == "+62812*****001"
    assert "1708" not in formatting.mask_nik("3171011708850001")


def test_date_readers_look_only_at_bounded_text():
    """A 2,000-character date answer held the action server for 30 s; now it is not parsed at all."""
    from crm.when import MAX_BIRTH_DATE_TEXT, parse_date, parse_date_of_birth

    assert parse_date_of_birth("17-08-1985 " * 181, today=TODAY) is None
    assert parse_date("17-08-1985 " * 181, today=TODAY) is None
    assert parse_date_of_birth("x" * (MAX_BIRTH_DATE_TEXT - 11) + " 17-08-1985", today=TODAY) is not None
    assert parse_date_of_birth("lahir 17-08-1985", today=TODAY) is not None


@pytest.mark.parametrize(
    "text",
    [
        "ga jadi deh, mau diskusi sm istri dulu",
        "hmm ga jadi dulu deh, makasih",
        "nggak jadi deh, nanti aja",
        "batal aja",
        "skip dulu",
        "gak usah kak, makasih",
        "gausah deh",
        "ok ga jadi",
        "cancel",
        "ga usah diproses",
        "tidak, terima kasih",  # a plain no with thanks
        "ga kak, makasih banyak ya",
        "no thanks",
    ],
)
def test_cancellations_with_or_without_a_reason(text):
    assert is_cancellation(text)


@pytest.mark.parametrize(
    "text",
    [
        "ga jadi2 bpkb saya",
        "gak jadi dicairin dananya kenapa",
        "tidak",
        "belum",
        "skip",
        "makasih",  # thanks without a no
        "tidak ada lagi, terima kasih",  # nothing more: a goodbye, not a refusal of what was asked
        "ga, makasih, tapi denda saya berapa",  # a new question after it
    ],
)
def test_what_is_not_a_cancellation(text):
    assert not is_cancellation(text)


@pytest.mark.parametrize(
    "text, yes",
    [
        ("ya minta surat resminya", True),
        ("iya betul", True),
        ("Iyaa kirim aja", True),
        ("ya ga jadi deh", False),  # a cancellation
        ("ya, denda saya berapa?", False),  # a new question
        ("boleh minta rekening koran", False),
        ("yayasan", False),
        ("oke saya mau, gimana caranya", True),
        ("ok lanjut", True),
        ("setuju", True),
        ("ok makasih", False),  # an acknowledgement
        ("mau tanya cicilan bulan depan", False),  # a new question
    ],
)
def test_a_yes_first(text, yes):
    assert begins_with_yes(text) is yes


@pytest.mark.parametrize(
    "text, salam",
    [
        ("assalamualaikum", True),
        ("Assalamu'alaikum min", True),
        ("asslmkm kak", True),
        ("ass wr wb", True),
        ("halo", False),
        ("salam kenal", False),
    ],
)
def test_a_salam(text, salam):
    assert is_salam(text) is salam


def test_names_and_questions():
    assert looks_like_a_name("Rina Marlina") and looks_like_a_name("M. Rizky")
    assert not looks_like_a_name("ga jadi deh, mau diskusi sm istri dulu") and not looks_like_a_name("adik saya")
    assert looks_like_a_question("cabang medan sabtu buka jam brp?")
    assert not looks_like_a_question("di parkiran mall taman anggrek jakarta")


@pytest.mark.parametrize(
    "text, found",
    [
        ("kurirnya galak", True),  # "kurir" + "nya"
        ("lewat ATM bersama", True),  # as flat words: case and punctuation do not matter
        ("kurir-kurir", False),  # part of a longer word is not the word
        ("batmobil", False),
        ("j&t lama", True),  # "j&t" is read as "j t" on both sides
        ("", False),
    ],
)
def test_a_word_is_mentioned_only_whole_in_a_list_of_any_length(text, found):
    filler = [f"kata{n}" for n in range(1000)]  # far more words than `re` keeps compiled
    words = word_forms(["kurir", "atm", "j&t", *filler])
    assert mentions(text, words) is found
    assert mentions(text, []) is False


@pytest.mark.parametrize(
    "text, asks",
    [
        ("aku mau bayar via shopeepay bisa?", True),
        ("byr cicilan pake gopay bisa ga", True),
        ("pembayaran lewat alfamart gimana", True),
        ("padahal sudah setor lewat atm", False),
        ("udh bayar kemarin via indomaret", False),
        ("saldo gopay saya hilang", False),
    ],
)
def test_asks_to_pay_reads_a_payment_still_to_make(text, asks):
    assert asks_to_pay(text) is asks


@pytest.mark.parametrize(
    "text, asks",
    [
        ("oke, bayarnya kemana?", True),
        ("byr nya lewat mana min", True),
        ("setor cicilan ke rekening mana", True),
        ("cara bayarnya gimana", True),
        ("bayar di mana ya", True),
        ("kalau telat bayar gimana", False),  # the fee, not the way
        ("sudah bayar kemana kok belum masuk", False),  # a payment made
        ("kemana ya", False),  # no payment
    ],
)
def test_asks_where_to_pay_reads_where_or_through_what(text, asks):
    assert asks_where_to_pay(text) is asks


@pytest.mark.parametrize(
    "text, asks",
    [
        ("stop kirim pesan promo ke saya", True),
        ("saya ga mau dapat info wa lagi", True),
        ("berhenti langganan notifikasi", True),
        ("ga usah kirim promo lagi min", True),
        ("kenapa pengingat ga masuk", False),  # wants them
        ("jangan telpon saya terus", False),  # calls: a complaint, not our messages
        ("mau berhenti autodebet", False),
    ],
)
def test_asks_to_stop_messages_reads_a_wish_to_stop_our_messages(text, asks):
    assert asks_to_stop_messages(text) is asks


@pytest.mark.parametrize(
    "text, failed",
    [
        ("min kok autodebet saya bulan ini gagal ya, padahal saldo ada", True),
        ("saldo saya ga kepotong", True),
        ("kenapa belum didebet", True),
        ("autodebet ga jalan", True),
        ("autodebet tanggal berapa", False),  # the schedule
        ("kepotong 2x", False),  # taken twice, not failed
        ("kapan dipotong", False),
    ],
)
def test_names_failed_debit_reads_a_debit_that_did_not_go_through(text, failed):
    assert names_failed_debit(text) is failed


@pytest.mark.parametrize(
    "text, later, days",
    [
        ("permisi, saya mau bayar cicilan bulan ini tapi belum gajian, bisa mundur seminggu?", True, 7),
        ("boleh bayar nanti setelah gajian?", True, None),
        ("sudah bayar kemarin belum masuk", False, None),  # a payment made
        ("kalau telat 2 minggu dendanya berapa", False, 14),
    ],
)
def test_asks_to_pay_later_reads_this_instalment_paid_after_its_due_date(text, later, days):
    assert asks_to_pay_later(text) is later and days_late_asked(text) == days


@pytest.mark.parametrize(
    "text, place",
    [
        ("ditabrak truk di tol cikampek km 57 tadi pagi", "tol cikampek km 57"),
        ("di jl. sudirman no 5, bekasi", "jl. sudirman no 5"),
        ("nyerempet di jalan raya bogor", "jalan raya bogor"),
        ("hilang di daerah cibubur pas hujan", "daerah cibubur"),
        ("mobil mogok di jalan pulang", None),
        ("dicuri di depan rumah", None),
        ("di jalan tol", None),
        ("mobilnya udah bisa jalan lagi", None),
    ],
)
def test_named_place_reads_a_road_or_area_by_its_name(text, place):
    assert named_place(text) == place


@pytest.mark.parametrize(
    "text, asks",
    [
        ("ada diskon ga kalau lunas dipercepat?", True),
        ("kok banyak banget, bisa dihapus ga dendanya?", True),
        ("dendanya bisa dikurangi?", True),
        ("mau lunasin semua berapa", False),
        ("denda saya berapa", False),
    ],
)
def test_asks_for_less_reads_a_discount_or_a_waiver(text, asks):
    assert asks_for_less(text) is asks


@pytest.mark.parametrize(
    "text, asks",
    [
        ("nomor kontrak liat dimana ya", True),
        ("saya ga tau nomor kontraknya", True),
        ("no kontrak sy lupa", True),
        ("kontrak saya sudah lunas", False),
        ("dimana cabang terdekat", False),
    ],
)
def test_asks_where_contract_number(text, asks):
    assert asks_where_contract_number(text) is asks


@pytest.mark.parametrize(
    "text, says",
    [
        ("saya dapat sms tunggakan padahal sudah setor", True),
        ("udh bayar kemarin kok masih ditagih", True),
        ("sudah transfer tapi belum masuk", True),
        ("kontrak saya sudah lunas kok masih ditagih terus", True),
        ("tagihan saya bulan ini berapa", False),
        ("sudah bayar, makasih", False),
    ],
)
def test_says_paid_yet_billed(text, says):
    assert says_paid_yet_billed(text) is says


@pytest.mark.parametrize(
    "text, found",
    [
        ("cicilaaan saya", True),  # stretched letters
        ("angsuranq brp", True),  # "q" for "ku"
        ("gmn cr byr angsrn", True),  # "byr", "angsrn": vowels left out
        ("tghn sy", True),
        ("mbl sy", True),  # "mobil"
        ("ktr", False),  # a consonant left out too is not "kantor"
        ("saya berapa", False),
        ("bl", False),  # too short to tell
        ("timnas kalah lagi", False),
    ],
)
def test_mentions_loosely_reads_words_typed_in_a_hurry(text, found):
    assert mentions_loosely(text, ("cicilan", "angsuran", "bayar", "tagihan", "mobil", "kantor")) is found


@pytest.mark.parametrize(
    "text, question",
    [
        (
            "Selamat pagi, Bapak/Ibu. Saya ingin menanyakan jumlah angsuran saya bulan ini. Terima kasih.",
            "Saya ingin menanyakan jumlah angsuran saya bulan ini",
        ),
        (
            "Permisi, mohon maaf mengganggu. Tagihan saya bulan depan berapa? Terima kasih banyak.",
            "Tagihan saya bulan depan berapa",
        ),
        ("Halo min, selamat sore. BPKB sudah bisa diambil belum ya? Makasih min", "BPKB sudah bisa diambil belum ya"),
        (
            "Assalamualaikum wr wb. Mohon info pengambilan BPKB, kredit saya sudah lunas. Terima kasih.",
            "Mohon info pengambilan BPKB, kredit saya sudah lunas",
        ),
        # nothing around, or nothing else, or too little left to be a question
        ("cicilan saya berapa", None),
        ("halo, selamat pagi", None),
        ("ok makasih ya kak", None),
        ("siap, makasih infonya", None),
        ("halo?? ada orang?", None),
        ("selamat malam, mimpi indah ya", None),
        # a time of day greets only after a wish ("pagi" may answer "Kapan kejadiannya?")
        ("pagi, di parkiran mall depan", None),
        # thanks that open the message are its point
        ("terima kasih banyak min, membantu banget", None),
    ],
)
def test_without_courtesies_finds_the_question_between_greetings_and_thanks(text, question):
    span = without_courtesies(text)
    assert (text[span[0] : span[1]].strip() if span else None) == question
