"""m3ter's Account Filter expression language.

An integration runs for an Account only when its Account Filter is true, e.g.
``customFields != null AND customFields.country == UK``. The text is parsed once into an AST of
frozen dataclasses and compiled into nested closures, because the same filter is evaluated for
every Account a Bill run touches and re-walking the AST per Account would waste most of the time.

Grammar (keywords are case-insensitive; NOT binds tighter than AND, which binds tighter than OR)::

    filter      := or_expr | <empty>
    or_expr     := and_expr ("OR" and_expr)*
    and_expr    := not_expr ("AND" not_expr)*
    not_expr    := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison  := operand ("==" | "!=" | "<" | ">" | "<=" | ">=") operand
                 | operand ["NOT"] "IN" "(" operand ("," operand)* ")"
    operand     := field | "null" | "true" | "false" | number | quoted string | bare word

NOT negates a whole comparison or parenthesised group, so ``NOT a == 1 AND b == 2`` means
``(NOT (a == 1)) AND (b == 2)``; comparison operands are values, never booleans.

A bare word is a field reference when it is a known field name (or ``customFields.<name>``),
otherwise it is a string, which is how m3ter's documented ``address.country == US`` works.
Quote a value that collides with a field or keyword name: ``customFields.kind == "currency"``.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "KNOWN_FIELDS",
    "AccountFilter",
    "AccountFilterError",
    "And",
    "Bool",
    "Compare",
    "Field",
    "In",
    "Not",
    "Null",
    "Number",
    "Or",
    "String",
    "account_filter_values",
    "compile_filter",
]

CUSTOM_FIELD_PREFIX = "customFields."

KNOWN_FIELDS: tuple[str, ...] = (
    "id",
    "accountName",
    "accountCode",
    "currency",
    "address.addressLine1",
    "address.addressLine2",
    "address.addressLine3",
    "address.addressLine4",
    "address.locality",
    "address.region",
    "address.postCode",
    "address.country",
    "customFields",
)
_KNOWN_FIELD_SET = frozenset(KNOWN_FIELDS)

# Words people reach for that m3ter's Address spells differently; used only for "did you mean".
_ADDRESS_ALIASES = {
    "city": "address.locality",
    "town": "address.locality",
    "state": "address.region",
    "county": "address.region",
    "province": "address.region",
    "zip": "address.postCode",
    "zipcode": "address.postCode",
    "postcode": "address.postCode",
    "postalcode": "address.postCode",
    "countrycode": "address.country",
}

COMPARISON_OPERATORS = ("==", "!=", "<", ">", "<=", ">=")
# Bounds no real filter comes near; past them a filter is refused with a message rather than
# exhausting the parser's recursion.
MAX_FILTER_LENGTH = 10_000
MAX_NESTING = 32


class AccountFilterError(ValueError):
    """A filter that cannot be parsed; ``column`` is 1-based so the UI can point at it."""

    def __init__(self, message: str, column: int):
        # Keeping both parts in args lets the exception pickle (task queues do that).
        super().__init__(message, column)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return f"column {self.column}: {self.message}"


# --- AST -----------------------------------------------------------------------------------------
# Literal kinds are separate classes: with a single Literal(value) node, dataclass equality would
# call Literal(True) equal to Literal(Decimal(1)), breaking the "reparse is structurally equal"
# guarantee.


@dataclass(frozen=True)
class Field:
    path: str

    def to_text(self) -> str:
        return self.path


@dataclass(frozen=True)
class String:
    value: str

    def to_text(self) -> str:
        escaped = (
            self.value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'


@dataclass(frozen=True)
class Number:
    value: Decimal

    def to_text(self) -> str:
        # "f" because str(Decimal) may use exponent notation, which the lexer does not accept.
        return format(self.value, "f")


@dataclass(frozen=True)
class Bool:
    value: bool

    def to_text(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True)
class Null:
    def to_text(self) -> str:
        return "null"


Operand = Field | String | Number | Bool | Null


@dataclass(frozen=True)
class Compare:
    op: str
    left: Operand
    right: Operand

    def to_text(self) -> str:
        return f"{self.left.to_text()} {self.op} {self.right.to_text()}"


@dataclass(frozen=True)
class In:
    operand: Operand
    options: tuple[Operand, ...]

    def to_text(self) -> str:
        options = ", ".join(option.to_text() for option in self.options)
        return f"{self.operand.to_text()} IN ({options})"


@dataclass(frozen=True)
class Not:
    operand: Expression

    def to_text(self) -> str:
        return f"NOT ({self.operand.to_text()})"


@dataclass(frozen=True)
class And:
    operands: tuple[Expression, ...]

    def to_text(self) -> str:
        return " AND ".join(_as_junction_child(operand) for operand in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple[Expression, ...]

    def to_text(self) -> str:
        return " OR ".join(_as_junction_child(operand) for operand in self.operands)


Expression = Compare | In | Not | And | Or


def _as_junction_child(node: Expression) -> str:
    # Nested AND/OR are always bracketed: needed for OR inside AND and for same-kind nesting
    # (the parser keeps brackets as structure), and it reads better for AND inside OR too.
    text = node.to_text()
    return f"({text})" if isinstance(node, And | Or) else text


# --- Lexer ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word, keyword, literal, string, number, op, "(", ")", ",", eof
    text: str
    column: int
    value: Any = None


_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN"})
_LITERALS = {"NULL": None, "TRUE": True, "FALSE": False}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
_WORD_TAIL = re.compile(r"[\w.\-]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DIGITS = frozenset("0123456789")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        column = position + 1
        if char.isspace():
            position += 1
        elif char in "(),":
            tokens.append(_Token(char, char, column))
            position += 1
        elif char in "\"'":
            token, position = _read_string(text, position)
            tokens.append(token)
        elif char in "=!<>&|":
            token, position = _read_operator(text, position)
            tokens.append(token)
        elif char in _DIGITS or (
            char == "-" and position + 1 < length and text[position + 1] in _DIGITS
        ):
            end = _WORD_TAIL.match(text, position + 1).end()
            raw = text[position:end]
            if _NUMBER.fullmatch(raw):
                tokens.append(_Token("number", raw, column, Decimal(raw)))
            elif char == "-":
                raise AccountFilterError(f"'{raw}' is not a number", column)
            else:
                # Codes such as 12AB are plain values, like any other bare word.
                tokens.append(_Token("word", raw, column, raw))
            position = end
        elif char.isalnum() or char == "_":
            end = _WORD_TAIL.match(text, position + 1).end()
            raw = text[position:end]
            upper = raw.upper()
            if upper in _KEYWORDS:
                tokens.append(_Token("keyword", raw, column, upper))
            elif upper in _LITERALS:
                tokens.append(_Token("literal", raw, column, _LITERALS[upper]))
            else:
                tokens.append(_Token("word", raw, column, raw))
            position = end
        else:
            raise AccountFilterError(f"unexpected character '{char}'", column)
    # End of input points just past the last visible character, where the caret is most useful.
    tokens.append(_Token("eof", "", len(text.rstrip()) + 1))
    return tokens


def _read_string(text: str, start: int) -> tuple[_Token, int]:
    quote = text[start]
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            value = "".join(chars)
            return _Token("string", text[start : position + 1], start + 1, value), position + 1
        if char == "\\" and position + 1 < len(text):
            escaped = text[position + 1]
            if escaped not in _ESCAPES:
                raise AccountFilterError(
                    f"unknown escape '\\{escaped}' (use \\\\, \\{quote}, \\n, \\t or \\r)",
                    position + 1,
                )
            chars.append(_ESCAPES[escaped])
            position += 2
            continue
        chars.append(char)
        position += 1
    raise AccountFilterError(f"unterminated string: missing closing {quote}", start + 1)


def _read_operator(text: str, start: int) -> tuple[_Token, int]:
    column = start + 1
    pair = text[start : start + 2]
    if pair in ("==", "!=", "<=", ">="):
        if text[start + 2 : start + 3] == "=":
            raise AccountFilterError(
                f"write '{pair}' to compare (found '{text[start : start + 3]}')", column
            )
        return _Token("op", pair, column, pair), start + 2
    hints = {"<>": "!=", "=>": ">=", "=<": "<=", "&&": "AND", "||": "OR"}
    if pair in hints:
        raise AccountFilterError(f"write '{hints[pair]}' (found '{pair}')", column)
    char = text[start]
    if char in "<>":
        return _Token("op", char, column, char), start + 1
    if char == "=":
        # m3ter's own user guide shows "customFields.country = = UK", so a spaced-out "= =" is
        # a likely paste; say exactly what was found rather than a generic syntax error.
        after = start + 1
        while after < len(text) and text[after].isspace():
            after += 1
        found = text[start : after + 1] if text[after : after + 1] == "=" else "="
        raise AccountFilterError(f"write '==' to compare (found '{found}')", column)
    if char == "!":
        raise AccountFilterError("write NOT to negate, or '!=' to compare (found '!')", column)
    word = "AND" if char == "&" else "OR"
    raise AccountFilterError(f"write {word} (found '{char}')", column)


# --- Parser --------------------------------------------------------------------------------------


def _field_path(word: str) -> str | None:
    if word in _KNOWN_FIELD_SET:
        return word
    if word.startswith(CUSTOM_FIELD_PREFIX) and len(word) > len(CUSTOM_FIELD_PREFIX):
        return word
    return None


def _looks_like_field(word: str) -> bool:
    # address.city can only be a mistyped field; nobody compares against that text.
    head, dot, _ = word.lower().partition(".")
    return bool(dot) and head in ("address", "customfields")


def _known_fields_listing() -> str:
    return ", ".join((*KNOWN_FIELDS, CUSTOM_FIELD_PREFIX + "<name>"))


def _suggest_field(word: str) -> str | None:
    lower = word.lower()
    if lower.startswith(CUSTOM_FIELD_PREFIX.lower()):
        name = word[len(CUSTOM_FIELD_PREFIX) :]
        return CUSTOM_FIELD_PREFIX + name if name else None
    for known in KNOWN_FIELDS:
        if known.lower() == lower:
            return known
    alias = _ADDRESS_ALIASES.get(lower.rpartition(".")[2].replace("_", "").replace("-", ""))
    if alias:
        return alias
    close = difflib.get_close_matches(word, KNOWN_FIELDS, n=1, cutoff=0.8)
    return close[0] if close else None


def _unknown_field(token: _Token) -> AccountFilterError:
    word = token.text
    if word.lower() == CUSTOM_FIELD_PREFIX.lower():
        return AccountFilterError(
            f"missing custom field name after '{word}' (e.g. customFields.country)",
            token.column,
        )
    suggestion = _suggest_field(word)
    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
    return AccountFilterError(
        f"unknown field '{word}'{hint}; known fields: {_known_fields_listing()}", token.column
    )


class _Parser:
    def __init__(self, text: str):
        if len(text) > MAX_FILTER_LENGTH:
            raise AccountFilterError(
                f"the filter is {len(text)} characters long; at most {MAX_FILTER_LENGTH} are "
                "accepted (a list of ids belongs in Account Ids)",
                MAX_FILTER_LENGTH + 1,
            )
        self.tokens = _tokenize(text)
        self.position = 0
        self.nesting = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def previous(self) -> _Token | None:
        return self.tokens[self.position - 1] if self.position else None

    def is_keyword(self, token: _Token, keyword: str) -> bool:
        return token.kind == "keyword" and token.value == keyword

    def error(self, expected: str, token: _Token) -> AccountFilterError:
        found = "" if token.kind == "eof" else f" (found '{token.text}')"
        return AccountFilterError(f"expected {expected}{found}", token.column)

    def parse(self) -> Expression:
        expression = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise AccountFilterError("')' has no matching '('", token.column)
        if token.kind != "eof":
            raise AccountFilterError(
                f"unexpected '{token.text}'; expected AND, OR or the end of the filter",
                token.column,
            )
        return expression

    def parse_or(self) -> Expression:
        operands = [self.parse_and()]
        while self.is_keyword(self.peek(), "OR"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Expression:
        operands = [self.parse_not()]
        while self.is_keyword(self.peek(), "AND"):
            self.advance()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Expression:
        token = self.peek()
        if not (self.is_keyword(token, "NOT") or token.kind == "("):
            return self.parse_comparison()
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise AccountFilterError(
                f"NOTs and parentheses nest more than {MAX_NESTING} deep here; simplify the filter",
                token.column,
            )
        self.advance()
        if token.kind == "(":
            if self.peek().kind == ")":
                raise AccountFilterError("empty parentheses", token.column)
            expression = self.parse_or()
            closing = self.peek()
            if closing.kind == "eof":
                raise AccountFilterError("'(' is never closed", token.column)
            if closing.kind != ")":
                raise self.error("')', AND or OR", closing)
            self.advance()
        else:
            expression = Not(self.parse_not())
        self.nesting -= 1
        return expression

    def parse_comparison(self) -> Expression:
        previous = self.previous()
        expected = f"a comparison after '{previous.text}'" if previous else "a comparison"
        left, left_token = self.parse_operand(expected)
        token = self.peek()
        if token.kind == "op":
            self.advance()
            right, right_token = self.parse_operand(f"a value after '{token.text}'")
            self.require_field([(left, left_token), (right, right_token)])
            return Compare(token.value, left, right)
        negated = self.is_keyword(token, "NOT") and self.is_keyword(self.peek(1), "IN")
        if negated:
            self.advance()
        if self.is_keyword(self.peek(), "IN"):
            node = self.parse_in(left, left_token)
            return Not(node) if negated else node
        raise self.error(
            f"a comparison operator ({', '.join(COMPARISON_OPERATORS)} or IN) "
            f"after '{left_token.text}'",
            token,
        )

    def parse_in(self, operand: Operand, operand_token: _Token) -> In:
        in_token = self.advance()
        opening = self.peek()
        if opening.kind != "(":
            raise self.error(f"'(' after '{in_token.text}', e.g. currency IN (USD, EUR)", opening)
        self.advance()
        if self.peek().kind == ")":
            raise AccountFilterError(
                "IN needs at least one value in its parentheses", opening.column
            )
        options: list[tuple[Operand, _Token]] = []
        while True:
            options.append(self.parse_operand(f"a value after '{self.previous().text}'"))
            separator = self.peek()
            if separator.kind == ",":
                self.advance()
            elif separator.kind == ")":
                self.advance()
                break
            elif separator.kind == "eof":
                raise AccountFilterError("'(' is never closed", opening.column)
            else:
                raise self.error("',' or ')' in the IN list", separator)
        self.require_field([(operand, operand_token), *options])
        return In(operand, tuple(node for node, _ in options))

    def parse_operand(self, expected: str) -> tuple[Operand, _Token]:
        token = self.peek()
        if token.kind == "word":
            path = _field_path(token.value)
            if path is None and _looks_like_field(token.value):
                raise _unknown_field(token)
            self.advance()
            return (Field(path) if path else String(token.value)), token
        if token.kind == "string":
            self.advance()
            return String(token.value), token
        if token.kind == "number":
            self.advance()
            return Number(token.value), token
        if token.kind == "literal":
            self.advance()
            return (Null() if token.value is None else Bool(token.value)), token
        if token.kind == "keyword":
            # Country code IN (India) is a real value that collides with the keyword.
            raise AccountFilterError(
                f"expected {expected} (found keyword '{token.text}'; "
                f'write "{token.text}" to use it as text)',
                token.column,
            )
        raise self.error(expected, token)

    def require_field(self, operands: list[tuple[Operand, _Token]]) -> None:
        # A comparison of two constants is always a mistake, almost always a mistyped field
        # name that fell back to being a bare-word string (e.g. accountname, city).
        if any(isinstance(node, Field) for node, _ in operands):
            return
        for _, token in operands:
            if token.kind == "word":
                raise _unknown_field(token)
        raise AccountFilterError(
            "a comparison needs a field on one side, e.g. currency == USD", operands[0][1].column
        )


# --- Evaluation ----------------------------------------------------------------------------------
# Values are normalised to None, bool, Decimal, str, or anything else (dicts, lists, NaN), which
# compares only by equality with its own type. Ints and floats become Decimal so 3 == 3.0 and
# float noise (0.1) does not leak in.

Predicate = Callable[[Mapping[str, Any]], bool]
_Getter = Callable[[Mapping[str, Any]], Any]

_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


def _normalize(value: Any) -> Any:
    if value is None or value is True or value is False or type(value) is str:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr gives the shortest round-tripping text, so 0.1 becomes Decimal("0.1").
        return Decimal(repr(value)) if math.isfinite(value) else value
    if isinstance(value, Decimal):
        # Non-finite Decimals would raise on ordering; as floats they just never compare.
        return value if value.is_finite() else float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _parse_number(text: str) -> Decimal | None:
    return Decimal(text.strip()) if _NUMERIC_TEXT.fullmatch(text) else None


def _equals(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is right
    left_type, right_type = type(left), type(right)
    if left_type is right_type:
        return left == right
    # Custom fields are often stored as strings, so "10" must equal 10.
    if left_type is Decimal and right_type is str:
        return _parse_number(right) == left
    if left_type is str and right_type is Decimal:
        return _parse_number(left) == right
    if left_type is bool and right_type is str:
        return right.lower() == ("true" if left else "false")
    if left_type is str and right_type is bool:
        return left.lower() == ("true" if right else "false")
    return False


def _not_equals(left: Any, right: Any) -> bool:
    return not _equals(left, right)


def _orderable(left: Any, right: Any) -> tuple[Any, Any] | None:
    left_type, right_type = type(left), type(right)
    if left_type is right_type:
        return (left, right) if left_type is Decimal or left_type is str else None
    if left_type is Decimal and right_type is str:
        number = _parse_number(right)
        return None if number is None else (left, number)
    if left_type is str and right_type is Decimal:
        number = _parse_number(left)
        return None if number is None else (number, right)
    return None


def _less(left: Any, right: Any) -> bool:
    pair = _orderable(left, right)
    return pair is not None and pair[0] < pair[1]


def _greater(left: Any, right: Any) -> bool:
    pair = _orderable(left, right)
    return pair is not None and pair[0] > pair[1]


def _less_or_equal(left: Any, right: Any) -> bool:
    pair = _orderable(left, right)
    return pair is not None and pair[0] <= pair[1]


def _greater_or_equal(left: Any, right: Any) -> bool:
    pair = _orderable(left, right)
    return pair is not None and pair[0] >= pair[1]


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equals,
    "!=": _not_equals,
    "<": _less,
    ">": _greater,
    "<=": _less_or_equal,
    ">=": _greater_or_equal,
}


def _field_getter(path: str) -> _Getter:
    if path == "customFields":

        def get_custom_fields(values: Mapping[str, Any]) -> Any:
            # "customFields != null" means "has any custom fields", so {} counts as null.
            return values.get("customFields") or None

        return get_custom_fields

    section, dot, key = path.partition(".")
    if dot:

        def get_nested(values: Mapping[str, Any]) -> Any:
            container = values.get(section)
            if not container or not isinstance(container, dict):
                return None
            value = container.get(key)
            return value if value is None or type(value) is str else _normalize(value)

        return get_nested

    def get_top_level(values: Mapping[str, Any]) -> Any:
        value = values.get(path)
        return value if value is None or type(value) is str else _normalize(value)

    return get_top_level


def _constant(node: Operand) -> Any:
    if isinstance(node, Null):
        return None
    return node.value


def _operand_getter(node: Operand) -> _Getter:
    if isinstance(node, Field):
        return _field_getter(node.path)
    constant = _constant(node)
    return lambda values: constant


def _compile_compare(node: Compare) -> Predicate:
    test = _TESTS[node.op]
    left, right = node.left, node.right
    if isinstance(left, Field) and not isinstance(right, Field):
        get = _field_getter(left.path)
        constant = _constant(right)
        if constant is None and node.op in ("==", "!="):
            present = node.op == "!="
            return lambda values: (get(values) is not None) is present
        return lambda values: test(get(values), constant)
    if isinstance(right, Field) and not isinstance(left, Field):
        get = _field_getter(right.path)
        constant = _constant(left)
        return lambda values: test(constant, get(values))
    get_left, get_right = _operand_getter(left), _operand_getter(right)
    return lambda values: test(get_left(values), get_right(values))


def _compile_in(node: In) -> Predicate:
    get = _operand_getter(node.operand)
    option_getters = tuple(_operand_getter(option) for option in node.options)
    if all(not isinstance(option, Field) for option in node.options):
        constants = tuple(_constant(option) for option in node.options)

        def is_in_constants(values: Mapping[str, Any]) -> bool:
            value = get(values)
            return any(_equals(value, constant) for constant in constants)

        return is_in_constants

    def is_in(values: Mapping[str, Any]) -> bool:
        value = get(values)
        return any(_equals(value, option_getter(values)) for option_getter in option_getters)

    return is_in


def _compile(node: Expression) -> Predicate:
    if isinstance(node, Compare):
        return _compile_compare(node)
    if isinstance(node, In):
        return _compile_in(node)
    if isinstance(node, Not):
        inner = _compile(node.operand)
        return lambda values: not inner(values)
    if isinstance(node, And):
        parts = tuple(_compile(operand) for operand in node.operands)
        if len(parts) == 2:  # the common case; skips building a generator per Account
            first, second = parts
            return lambda values: first(values) and second(values)
        return lambda values: all(part(values) for part in parts)
    if isinstance(node, Or):
        parts = tuple(_compile(operand) for operand in node.operands)
        if len(parts) == 2:
            first, second = parts
            return lambda values: first(values) or second(values)
        return lambda values: any(part(values) for part in parts)
    raise TypeError(f"not an Account Filter expression: {node!r}")


def _match_everything(values: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class AccountFilter:
    """A parsed filter; equality is structural (on ``expression``), not textual."""

    expression: Expression | None
    _predicate: Predicate = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        predicate = _match_everything if self.expression is None else _compile(self.expression)
        object.__setattr__(self, "_predicate", predicate)

    @property
    def matches_everything(self) -> bool:
        return self.expression is None

    def matches(self, account_values: Mapping[str, Any]) -> bool:
        """True if the Account (as built by ``account_filter_values``) passes the filter."""
        return self._predicate(account_values)

    def to_text(self) -> str:
        return "" if self.expression is None else self.expression.to_text()


@functools.lru_cache(maxsize=512)
def compile_filter(text: str | None) -> AccountFilter:
    """Parse ``text``; blank text matches every Account. Raises AccountFilterError."""
    if not text or not text.strip():
        return AccountFilter(None)
    return AccountFilter(_Parser(text).parse())


def account_filter_values(account: Any) -> dict[str, Any]:
    """The dict ``AccountFilter.matches`` expects, from anything shaped like m3terdata.Account."""

    # The mirror stores absent optional text as "" (blank CharFields); m3ter would have no value,
    # so "currency == null" must see null rather than an empty string.
    def present(value: Any) -> Any:
        return None if value == "" else value

    address = getattr(account, "address", None) or {}
    custom_fields = getattr(account, "custom_fields", None) or {}
    return {
        "id": present(account.m3ter_id),
        "accountName": present(account.name),
        "accountCode": present(account.code),
        "currency": present(account.currency),
        "address": {
            key: value for key, value in address.items() if value is not None and value != ""
        },
        "customFields": dict(custom_fields),
    }
