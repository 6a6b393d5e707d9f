import pickle
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.account_filter import (
    KNOWN_FIELDS,
    AccountFilter,
    AccountFilterError,
    And,
    Bool,
    Compare,
    Field,
    In,
    Not,
    Null,
    Number,
    Or,
    String,
    account_filter_values,
    compile_filter,
)

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def account(**overrides):
    values = {
        "id": "acc-1",
        "accountName": "Acme Ltd",
        "accountCode": "ACME",
        "currency": "USD",
        "address": {"country": "US", "locality": "Boston"},
        "customFields": {},
    }
    values.update(overrides)
    return values


def matches(text, **overrides):
    return compile_filter(text).matches(account(**overrides))


def error_for(text):
    with pytest.raises(AccountFilterError) as caught:
        compile_filter(text)
    return caught.value


# --- Documented examples ---------------------------------------------------------------------


def test_documented_country_example():
    assert matches("address.country == US")
    assert not matches("address.country == US", address={"country": "UK"})


def test_documented_custom_field_example():
    text = "customFields != null AND customFields.country == UK"
    assert matches(text, customFields={"country": "UK"})
    assert not matches(text, customFields={"country": "US"})
    assert not matches(text, customFields={})
    assert not matches(text, customFields=None)


def test_user_guide_spaced_equals_gets_a_hint_at_its_column():
    error = error_for("customFields != null AND customFields.country = = UK")
    assert error.column == 47
    assert error.message == "write '==' to compare (found '= =')"
    assert str(error) == "column 47: write '==' to compare (found '= =')"


def test_single_equals_gets_a_hint():
    error = error_for("currency = USD")
    assert error.column == 10
    assert "write '=='" in error.message and "found '='" in error.message


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("currency === USD", 10, "found '==='"),
        ("currency <> USD", 10, "write '!='"),
        ("customFields.n => 1", 16, "write '>='"),
        ("currency == USD && id == x", 17, "write 'AND'"),
        ("currency == USD || id == x", 17, "write 'OR'"),
        ("!(currency == USD)", 1, "write NOT"),
    ],
)
def test_operator_typos_get_hints(text, column, fragment):
    error = error_for(text)
    assert error.column == column
    assert fragment in error.message


# --- Operators and literals --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customFields.n == 5", True),
        ("customFields.n != 5", False),
        ("customFields.n < 6", True),
        ("customFields.n < 5", False),
        ("customFields.n > 4", True),
        ("customFields.n > 5", False),
        ("customFields.n <= 5", True),
        ("customFields.n <= 4", False),
        ("customFields.n >= 5", True),
        ("customFields.n >= 6", False),
        ("customFields.n > -1.5", True),
        ("customFields.n == 5.000", True),
        ("accountName == 'Acme Ltd'", True),
        ('accountName != "Acme Ltd"', False),
        ("accountName < B", True),
        ("accountName > B", False),
        ("accountName <= 'Acme Ltd'", True),
        ("accountName >= 'Acme Ltd'", True),
        ("5 == customFields.n", True),
        ("6 > customFields.n", True),
        ("customFields.n == customFields.m", True),
        ("customFields.n < customFields.m", False),
    ],
)
def test_every_comparison_operator(text, expected):
    assert matches(text, customFields={"n": 5, "m": 5}) is expected


def test_all_known_fields_are_readable():
    values = {
        "id": "a1",
        "accountName": "n",
        "accountCode": "c",
        "currency": "EUR",
        "address": {
            "addressLine1": "l1",
            "addressLine2": "l2",
            "addressLine3": "l3",
            "addressLine4": "l4",
            "locality": "loc",
            "region": "reg",
            "postCode": "pc",
            "country": "FR",
        },
        "customFields": {"x": "y"},
    }
    for path in KNOWN_FIELDS:
        if path == "customFields":
            continue
        section, _, key = path.partition(".")
        expected = values[section][key] if key else values[section]
        assert compile_filter(f"{path} == {String(expected).to_text()}").matches(values), path
        assert not compile_filter(f"{path} == other").matches(values), path


def test_custom_field_names_may_contain_dots_and_hyphens():
    assert matches("customFields.cost-centre == EU-1", customFields={"cost-centre": "EU-1"})
    assert matches("customFields.a.b == 1", customFields={"a.b": 1})


def test_string_escapes_and_quote_styles():
    assert matches(r'accountName == "Say \"hi\"\n"', accountName='Say "hi"\n')
    assert matches(r"accountName == 'O\'Neil'", accountName="O'Neil")
    assert matches(r"accountName == 'a\\b'", accountName="a\\b")
    assert matches("accountName == 'say \"hi\"'", accountName='say "hi"')


def test_bare_words_are_strings_and_may_start_with_digits():
    assert matches("accountCode == 12AB-x", accountCode="12AB-x")
    assert compile_filter("accountCode == 12AB").expression == Compare(
        "==", Field("accountCode"), String("12AB")
    )


def test_known_field_names_as_bare_words_are_fields():
    assert compile_filter("customFields.kind == currency").expression == Compare(
        "==", Field("customFields.kind"), Field("currency")
    )
    assert matches("customFields.kind == 'currency'", customFields={"kind": "currency"})


def test_case_insensitive_keywords_and_literals():
    assert matches("currency == USD and not (id == x) Or id == y")
    assert matches("currency In (usd, USD) AND customFields == NULL")
    assert matches("customFields.vip == True", customFields={"vip": True})
    assert matches("customFields.vip == FALSE", customFields={"vip": False})
    assert matches("currency not in (EUR)")


def test_strings_compare_case_sensitively():
    assert not matches("currency == usd")


# --- IN ------------------------------------------------------------------------------------------


def test_in_lists():
    assert matches("currency IN (USD, EUR)")
    assert matches('address.country in ("UK", US)')
    assert not matches("currency IN (GBP, EUR)")
    assert matches("currency NOT IN (GBP, EUR)")
    assert matches("NOT currency IN (GBP, EUR)")
    assert matches("customFields.tier IN (1, 2, 3)", customFields={"tier": "2"})
    assert matches("customFields.tier IN (null, gold)", customFields={})
    assert matches("US IN (address.country, currency)")


# --- Precedence and grouping ---------------------------------------------------------------------


def test_and_binds_tighter_than_or():
    # a OR b AND c with a true and b, c false: true only if parsed a OR (b AND c).
    assert matches("currency == USD OR currency == EUR AND id == nope")
    assert not matches("(currency == USD OR currency == EUR) AND id == nope")


def test_not_binds_tighter_than_and():
    assert not matches("NOT currency == USD AND id == acc-1")
    assert matches("NOT (currency == USD AND id == nope)")
    assert compile_filter("NOT id == x AND id == y").expression == And(
        (Not(Compare("==", Field("id"), String("x"))), Compare("==", Field("id"), String("y")))
    )


def test_not_not():
    assert matches("NOT NOT currency == USD")


# --- Null semantics ------------------------------------------------------------------------------


def test_missing_fields_are_null():
    values = {"id": "x"}
    assert compile_filter("currency == null").matches(values)
    assert compile_filter("address.country == null").matches(values)
    assert compile_filter("customFields.anything == null").matches(values)
    assert compile_filter("customFields == null").matches(values)
    assert compile_filter("address.country != UK").matches(values)
    assert not compile_filter("address.country == UK").matches(values)


def test_empty_custom_fields_count_as_null():
    assert matches("customFields == null", customFields={})
    assert matches("customFields != null", customFields={"a": None})
    assert matches("customFields.a == null", customFields={"a": None})


@pytest.mark.parametrize("op", ["<", ">", "<=", ">="])
def test_ordering_with_null_or_incomparable_types_is_false(op):
    assert not matches(f"customFields.missing {op} 1")
    assert not matches(f"customFields.missing {op} null")
    assert not matches(f"customFields.word {op} 1", customFields={"word": "abc"})
    assert not matches(f"customFields.flag {op} 1", customFields={"flag": True})
    assert not matches(f"customFields.flag {op} true", customFields={"flag": True})
    assert not matches(f"customFields.obj {op} 1", customFields={"obj": {"a": 1}})


def test_null_equals_only_null():
    assert matches("customFields.a != null", customFields={"a": ""})
    assert matches("customFields.a != null", customFields={"a": 0})
    assert matches("customFields.a != null", customFields={"a": False})


# --- Numbers, strings and booleans -------------------------------------------------------------


def test_numeric_strings_compare_numerically_against_numbers():
    assert matches("customFields.n > 9", customFields={"n": "10"})
    assert matches("customFields.n == 10", customFields={"n": " 10.0 "})
    assert matches("9 < customFields.n", customFields={"n": "10"})
    assert matches("customFields.n == '10.0'", customFields={"n": 10})


def test_two_strings_compare_as_strings():
    assert not matches("customFields.n > '9'", customFields={"n": "10"})
    assert not matches("customFields.n == '10.0'", customFields={"n": "10"})


def test_numbers_normalise_across_python_types():
    assert matches("customFields.n == 3", customFields={"n": 3.0})
    assert matches("customFields.n == 0.1", customFields={"n": 0.1})
    assert matches("customFields.n == 0.1", customFields={"n": Decimal("0.10")})
    assert not matches("customFields.n > 0", customFields={"n": float("nan")})
    assert not matches("customFields.n > 0", customFields={"n": Decimal("NaN")})


def test_non_numeric_string_is_unequal_to_a_number():
    assert not matches("customFields.n == 5", customFields={"n": "five"})
    assert matches("customFields.n != 5", customFields={"n": "five"})


def test_booleans():
    assert matches("customFields.vip == true", customFields={"vip": True})
    assert matches("customFields.vip == true", customFields={"vip": "TRUE"})
    assert matches("customFields.vip != true", customFields={"vip": "no"})
    assert matches("customFields.vip == false", customFields={"vip": "False"})
    assert matches("customFields.vip == 'true'", customFields={"vip": True})
    # bool is an int in Python; m3ter's true is not the number 1.
    assert not matches("customFields.vip == 1", customFields={"vip": True})
    assert not matches("customFields.n == true", customFields={"n": 1})


# --- Errors --------------------------------------------------------------------------------------


def test_missing_value_at_end_points_just_after_the_operator():
    error = error_for("customFields != null AND customFields.country == ")
    assert error.column == 49
    assert str(error) == "column 49: expected a value after '=='"


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ('accountName == "Acme', 16, 'unterminated string: missing closing "'),
        ("accountName == 'Acme", 16, "unterminated string: missing closing '"),
        (r"accountName == 'a\qb'", 18, "unknown escape '\\q'"),
        ("()", 1, "empty parentheses"),
        ("currency == USD AND ()", 21, "empty parentheses"),
        ("currency IN ()", 13, "IN needs at least one value"),
        ("currency IN USD", 13, "expected '(' after 'IN'"),
        ("currency IN (USD EUR)", 18, "expected ',' or ')' in the IN list (found 'EUR')"),
        ("currency IN (USD,)", 18, "expected a value after ','"),
        ("currency IN (USD", 13, "'(' is never closed"),
        ("(currency == USD", 1, "'(' is never closed"),
        ("(currency == USD id == x)", 18, "expected ')', AND or OR (found 'id')"),
        ("currency == USD)", 16, "')' has no matching '('"),
        ("currency == USD EUR", 17, "unexpected 'EUR'; expected AND, OR or the end"),
        ("currency == USD AND", 20, "expected a comparison after 'AND'"),
        ("currency == USD OR OR id == x", 20, "expected a comparison after 'OR' (found keyword"),
        ("NOT", 4, "expected a comparison after 'NOT'"),
        ("currency", 9, "expected a comparison operator"),
        ("currency USD", 10, "expected a comparison operator (==, !=, <, >, <=, >= or IN)"),
        ("currency == == USD", 13, "expected a value after '==' (found '==')"),
        ("currency == (USD)", 13, "expected a value after '=='"),
        ("address.country == IN", 20, 'write "IN" to use it as text'),
        ("customFields.n > -5x", 18, "'-5x' is not a number"),
        ("currency == US$", 15, "unexpected character '$'"),
        ("1 == 1", 1, "a comparison needs a field on one side"),
        ("customFields. == x", 1, "missing custom field name"),
    ],
)
def test_errors_carry_columns(text, column, fragment):
    error = error_for(text)
    assert (error.column, fragment in error.message) == (column, True), str(error)


@pytest.mark.parametrize(
    ("text", "column", "suggestion"),
    [
        ("address.city == London", 1, "address.locality"),
        ("accountname == 'Acme'", 1, "accountName"),
        ("currency == USD AND Address.Country == UK", 21, "address.country"),
        ("customfields.country == UK", 1, "customFields.country"),
        ("customFields.a == address.zip", 19, "address.postCode"),
        ("city IN (London, Paris)", 1, "address.locality"),
    ],
)
def test_unknown_fields_list_the_known_ones(text, column, suggestion):
    error = error_for(text)
    assert error.column == column
    assert f"did you mean '{suggestion}'" in error.message
    for known in KNOWN_FIELDS:
        assert known in error.message
    assert "customFields.<name>" in error.message


def test_bare_values_that_look_like_field_names_are_fine_next_to_a_field():
    # ID is Indonesia's country code, not a mistyped "id".
    assert matches("address.country == ID", address={"country": "ID"})


def test_error_is_a_picklable_value_error():
    error = error_for("currency = USD")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.column, str(copy)) == (error.message, error.column, str(error))


# --- API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_blank_filter_matches_everything(text):
    compiled = compile_filter(text)
    assert compiled.matches_everything
    assert compiled.matches({})
    assert compiled.to_text() == ""


def test_compiled_filters_are_cached():
    assert compile_filter("currency == USD") is compile_filter("currency == USD")


def test_to_text_is_canonical():
    compiled = compile_filter("address.country == UK and not currency in (USD, 'EUR')")
    assert compiled.to_text() == 'address.country == "UK" AND NOT (currency IN ("USD", "EUR"))'
    nested = compile_filter("id == a OR id == b AND (id == c OR id == d)")
    assert nested.to_text() == 'id == "a" OR (id == "b" AND (id == "c" OR id == "d"))'
    assert compile_filter(nested.to_text()) == nested


def test_to_text_keeps_number_precision_without_exponents():
    compiled = AccountFilter(Compare("<", Field("customFields.n"), Number(Decimal("1E-7"))))
    assert compiled.to_text() == "customFields.n < 0.0000001"
    assert compile_filter(compiled.to_text()) == compiled


def test_account_filter_values_from_a_model_like_object():
    model = SimpleNamespace(
        m3ter_id="m-1",
        name="Acme",
        code="ACME",
        currency="",
        address={"country": "UK", "region": "", "postCode": None},
        custom_fields={"tier": "gold"},
    )
    values = account_filter_values(model)
    assert values == {
        "id": "m-1",
        "accountName": "Acme",
        "accountCode": "ACME",
        "currency": None,
        "address": {"country": "UK"},
        "customFields": {"tier": "gold"},
    }
    assert compile_filter("currency == null AND address.region == null").matches(values)


def test_account_filter_values_tolerates_null_json():
    model = SimpleNamespace(
        m3ter_id="m-1", name="A", code="A", currency="GBP", address=None, custom_fields=None
    )
    values = account_filter_values(model)
    assert values["address"] == {} and values["customFields"] == {}
    assert compile_filter("customFields == null").matches(values)


def test_a_filter_is_compiled_once_and_reused_for_every_account():
    text = "customFields != null AND customFields.country == UK AND customFields.n > 5"
    compiled = compile_filter(text)
    assert compile_filter(text) is compiled
    accounts = [account(customFields={"country": "UK", "n": str(i % 10)}) for i in range(1_000)]
    assert sum(map(compiled.matches, accounts)) == 400


# --- Properties ----------------------------------------------------------------------------------

field_names = st.one_of(
    st.sampled_from(KNOWN_FIELDS),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,10}", fullmatch=True).map(
        lambda name: f"customFields.{name}"
    ),
)
fields = field_names.map(Field)
constants = st.one_of(
    st.just(Null()),
    st.booleans().map(Bool),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9
    ).map(Number),
    st.text(max_size=12).map(String),
)
operands = st.one_of(fields, constants)


@st.composite
def comparisons(draw):
    field_operand = draw(fields)
    other = draw(operands)
    left, right = (field_operand, other) if draw(st.booleans()) else (other, field_operand)
    return Compare(draw(st.sampled_from(["==", "!=", "<", ">", "<=", ">="])), left, right)


@st.composite
def in_lists(draw):
    return In(draw(fields), tuple(draw(st.lists(operands, min_size=1, max_size=4))))


expressions = st.recursive(
    st.one_of(comparisons(), in_lists()),
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=4).map(tuple).map(And),
        st.lists(children, min_size=2, max_size=4).map(tuple).map(Or),
    ),
    max_leaves=12,
)


@PROPERTY_SETTINGS
@given(expressions)
def test_printing_and_reparsing_gives_the_same_tree(expression):
    original = AccountFilter(expression)
    reparsed = compile_filter(original.to_text())
    assert reparsed == original


@st.composite
def boolean_formulas(draw, depth=0):
    """Random AND/OR/NOT formulas over a, b, c in both filter syntax and Python syntax.

    Python's not/and/or have the precedence the filter language promises, so Python's own
    evaluation is the oracle.
    """
    parts_filter, parts_python = [], []
    for index in range(draw(st.integers(min_value=1, max_value=4))):
        if index:
            keyword = draw(st.sampled_from(["AND", "OR"]))
            parts_filter.append(draw(st.sampled_from([keyword, keyword.lower(), keyword.title()])))
            parts_python.append(keyword.lower())
        negations = draw(st.integers(min_value=0, max_value=2))
        parts_filter.extend(["NOT"] * negations)
        parts_python.extend(["not"] * negations)
        if depth < 2 and draw(st.booleans()):
            inner_filter, inner_python = draw(boolean_formulas(depth=depth + 1))
            parts_filter.append(f"({inner_filter})")
            parts_python.append(f"({inner_python})")
        else:
            name = draw(st.sampled_from("abc"))
            parts_filter.append(f"customFields.{name} == true")
            parts_python.append(name)
    return " ".join(parts_filter), " ".join(parts_python)


@PROPERTY_SETTINGS
@given(boolean_formulas(), st.booleans(), st.booleans(), st.booleans())
def test_precedence_matches_not_and_or(formula, a, b, c):
    filter_text, python_text = formula
    truth = {"a": a, "b": b, "c": c}
    expected = eval(python_text, {}, truth)  # the text comes from a fixed vocabulary
    assert compile_filter(filter_text).matches(account(customFields=truth)) is bool(expected)


@PROPERTY_SETTINGS
@given(
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_a_or_b_and_c(a, b, c):
    text = "customFields.a == true OR customFields.b == true AND customFields.c == true"
    assert matches(text, customFields={"a": a, "b": b, "c": c}) is (a or (b and c))


small_decimals = st.decimals(
    allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000
)


@PROPERTY_SETTINGS
@given(
    small_decimals,
    small_decimals,
    st.sampled_from([str, float, Decimal, "int"]),
    st.sampled_from(["==", "!=", "<", ">", "<=", ">="]),
)
def test_numbers_compare_numerically_however_they_are_stored(stored, literal, store_as, op):
    if store_as == "int":
        stored = stored.to_integral_value()
        value = int(stored)
    else:
        value = store_as(stored)
    oracle = {
        "==": stored == literal,
        "!=": stored != literal,
        "<": stored < literal,
        ">": stored > literal,
        "<=": stored <= literal,
        ">=": stored >= literal,
    }[op]
    text = f"customFields.n {op} {Number(literal).to_text()}"
    assert matches(text, customFields={"n": value}) is oracle


@pytest.mark.parametrize(
    "text",
    [
        "(" * 300 + "name == x" + ")" * 300,
        "NOT " * 500 + "name == x",
        "NOT (" * 200 + "name == x" + ")" * 200,
    ],
)
def test_nesting_past_the_bound_is_a_message_not_a_crash(text):
    with pytest.raises(AccountFilterError, match="nest more than 32 deep"):
        compile_filter(text)


def test_nesting_up_to_the_bound_parses():
    text = "(" * 16 + "NOT " * 16 + "currency == EUR" + ")" * 16
    assert compile_filter(text).matches(account(currency="EUR"))


def test_an_overlong_filter_is_refused_saying_the_limit():
    text = " OR ".join(f"accountCode == c{n}" for n in range(2_000))
    with pytest.raises(AccountFilterError, match="at most 10000 are accepted"):
        compile_filter(text)
