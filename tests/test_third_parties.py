"""business/third_parties.yml: which messages are about another company or person, and the
file's own rules (clear errors for the analysts who edit it; a missing or broken file is
tests/test_business_files.py's). That no payment channel's word is in it is `make validate`'s
check (tests/test_validate.py)."""

from __future__ import annotations

import os

import pytest

from crm.third_parties import ThirdPartiesFileError, third_parties


@pytest.mark.parametrize(
    "text, others",
    [
        ("paket JNE saya belum sampai", True),
        ("barang via J&T ga sampai2", True),  # "j&t" as written in the file
        ("ojolnya ga dateng2", True),
        ("sinyal telkomsel jelek banget", True),
        ("mau komplain ke lazada", True),
        ("kredit motor di adira cicilannya berapa", True),  # another lender's instalment
        ("debt collector fif datang ke rumah", True),
        ("kurir kalian telat antar surat", False),
        ("bpkb dikirim lewat jne kapan sampai", False),
        ("angsuran saya di tokopedia belum masuk", False),
        ("cs nya lama banget balesnya", False),
        ("grabbing", False),  # whole words only
    ],
)
def test_a_message_is_about_others_when_it_names_one_and_nothing_of_ours(text, others):
    assert third_parties().about_others(text) is others


def test_a_word_in_both_lists_is_refused_with_the_word(tmp_path):
    path = tmp_path / "third_parties.yml"
    path.write_text("others: [kurir, cabang]\nours: [kalian, cabang]\n")
    with pytest.raises(ThirdPartiesFileError, match="cabang"):
        third_parties(path)


@pytest.mark.parametrize("text", ["others: kurir\nours: [kalian]\n", "ours: [kalian]\n", "- kurir\n"])
def test_a_file_without_two_lists_of_words_is_refused(tmp_path, text):
    path = tmp_path / "third_parties.yml"
    path.write_text(text)
    with pytest.raises(ThirdPartiesFileError):
        third_parties(path)


def test_an_edited_file_is_read_again(tmp_path):
    path = tmp_path / "third_parties.yml"
    path.write_text("others: [kurir]\nours: [kalian]\n")
    assert not third_parties(path).about_others("ojol telat")
    path.write_text("others: [kurir, ojol]\nours: [kalian]\n")
    os.utime(path, (1, 2))  # a different modification time, as any save gives
    assert third_parties(path).about_others("ojol telat")
