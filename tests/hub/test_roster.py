import pytest
from celerylab_hub.roster import RosterError, parse


def test_reads_usernames_in_order_lowercased():
    assert parse("username,email\nAlice,a@x\nbob,b@x\n") == ["alice", "bob"]


def test_tolerates_bom_blank_lines_and_header_case():
    assert parse("\ufeffUserName\n\ncarol\n\n") == ["carol"]


def test_header_is_required():
    with pytest.raises(RosterError, match="header with a 'username' column"):
        parse("alice\nbob\n")


def test_every_bad_row_is_reported_with_its_line():
    with pytest.raises(RosterError) as e:
        parse("username\nok\nBad Name\nok\n9lives\n")
    message = str(e.value)
    assert "line 3: 'Bad Name' is not a valid user name" in message
    assert "line 4: 'ok' already on line 2" in message
    assert "line 5: '9lives'" in message


def test_empty_roster_is_an_error():
    with pytest.raises(RosterError, match="no students"):
        parse("username\n")
