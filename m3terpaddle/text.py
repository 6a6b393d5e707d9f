"""Messages composed from parts: a reason that may or may not end with a full stop, then what to
do about it. Every place that puts sentences together goes through `sentences`, so no page, log
or API answer says ".." and none runs two sentences together without one."""

# A sentence that ends with one of these needs no full stop added; an ellipsis is on purpose.
_ENDINGS = (".", "!", "?", "…")
# Closing quotes and brackets after the sentence's own punctuation: 'Disabled ("by admin.")'.
_CLOSERS = "\"'”’)]"


def sentence(text: str) -> str:
    """`text` stripped and ending with exactly one full stop (or its own !, ?, …, or "..." on
    purpose); "" for blank text."""
    text = (text or "").strip()
    if not text:
        return ""
    body = text.rstrip(_CLOSERS)
    if body.endswith("..") and not body.endswith("..."):
        # A full stop added to text that had one already.
        return body.rstrip(".") + "." + text[len(body) :]
    if body.endswith(_ENDINGS):
        return text
    return f"{text}."


def sentences(*parts: str) -> str:
    """The parts as sentences of one text: blank parts left out, each ending with one full stop,
    joined by a space. sentences("The key was refused.", "Replace it") ==
    "The key was refused. Replace it." """
    return " ".join(filter(None, (sentence(part) for part in parts)))
