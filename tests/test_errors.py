from fieldkit.errors import FieldkitError


def test_one_line_joins_message_and_hint_as_sentences() -> None:
    assert FieldkitError("no such file.", "check the path").one_line() == (
        "no such file. Check the path"
    )
    assert FieldkitError("nothing to do").one_line() == "nothing to do."


def test_a_hint_that_is_a_command_keeps_its_case() -> None:
    error = FieldkitError("no transcript yet", "fieldkit transcribe INTSTA001-PEER")
    assert error.one_line() == "no transcript yet. fieldkit transcribe INTSTA001-PEER"
