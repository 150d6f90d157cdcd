"""The files in business/ that analysts edit are read one way: every reader names the file when
it is missing or broken, and parses a saved version once (an edit is read without a restart)."""

from __future__ import annotations

import os

import pytest

from crm.business_files import read_mapping, reread_when_saved
from crm.services import complaints, payments, templates
from crm.subjects import SubjectsFileError, subjects
from crm.third_parties import ThirdPartiesFileError, third_parties


class BrokenFile(ValueError):
    pass


@pytest.mark.parametrize(
    "reader, error",
    [
        (payments.payment_channels, payments.ChannelsFileError),
        (complaints.topics, complaints.TopicsFileError),
        (templates.read_file, templates.TemplateFileError),
        (third_parties, ThirdPartiesFileError),
        (subjects, SubjectsFileError),
    ],
)
def test_every_business_file_reader_names_a_missing_or_broken_file(tmp_path, reader, error):
    with pytest.raises(error, match="cannot be read"):
        reader(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("channels: [unclosed\n")
    with pytest.raises(error, match="broken.yml is not valid YAML"):
        reader(broken)
    listed = tmp_path / "listed.yml"
    listed.write_text("- just\n- a list\n")
    with pytest.raises(error, match="listed.yml must hold named sections"):
        reader(listed)


def test_an_empty_file_is_an_empty_mapping(tmp_path):
    path = tmp_path / "empty.yml"
    path.write_text("# nothing yet\n")
    assert read_mapping(path, BrokenFile) == {}


def test_a_saved_version_is_parsed_once_and_a_new_save_again(tmp_path):
    parsed = []

    def parse(path, data):
        parsed.append(data["n"])
        return data["n"]

    read = reread_when_saved(parse, BrokenFile)
    path = tmp_path / "numbers.yml"
    path.write_text("n: 1\n")
    os.utime(path, (1, 1))
    assert read(path) == read(path) == 1
    path.write_text("n: 2\n")
    os.utime(path, (2, 2))  # a different modification time, as any save gives
    assert read(path) == 2
    assert parsed == [1, 2]


def test_a_parse_error_is_not_cached_as_an_answer(tmp_path):
    def parse(path, data):
        if "n" not in data:
            raise BrokenFile(f"{path.name} needs n")
        return data["n"]

    read = reread_when_saved(parse, BrokenFile)
    path = tmp_path / "numbers.yml"
    path.write_text("m: 1\n")
    os.utime(path, (1, 1))
    with pytest.raises(BrokenFile, match="needs n"):
        read(path)
    path.write_text("n: 3\n")
    os.utime(path, (2, 2))
    assert read(path) == 3
