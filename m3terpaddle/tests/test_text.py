import pytest

from m3terpaddle.text import sentence, sentences


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        # A reason that ends with a full stop, and one that does not, before the fix.
        (("The key was refused.", "Replace it."), "The key was refused. Replace it."),
        (("The key was refused", "Replace it"), "The key was refused. Replace it."),
        # A full stop added to text that had one already is taken back.
        (("Disabled by admin..", "Enable it."), "Disabled by admin. Enable it."),
        # Blank parts are left out, and whitespace around parts goes.
        (("  The key was refused. ", "", None, "   "), "The key was refused."),
        ((), ""),
        # A sentence's own punctuation, and an ellipsis on purpose, stay as they are.
        (("Is Paddle down?", "Wait!"), "Is Paddle down? Wait!"),
        (("Waiting…", "Still waiting..."), "Waiting… Still waiting..."),
        # Punctuation inside closing quotes or brackets ends the sentence.
        (('It said "no."', "(Check the key.)"), 'It said "no." (Check the key.)'),
        (("Disabled by 'admin'",), "Disabled by 'admin'."),
        # Abbreviations and numbers inside a sentence are not its end.
        (("Total 12.50 USD, e.g. for API calls",), "Total 12.50 USD, e.g. for API calls."),
    ],
)
def test_sentences_join_with_exactly_one_full_stop_each(parts, text):
    assert sentences(*parts) == text


def test_one_sentence_is_ended_once():
    assert sentence("Paddle answered 403 invalid_token: Invalid or revoked API key.") == (
        "Paddle answered 403 invalid_token: Invalid or revoked API key."
    )
    assert sentence("Paddle answered 500") == "Paddle answered 500."
    assert sentence("") == ""
