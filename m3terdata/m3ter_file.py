"""Reading a file in m3ter's API shape, {"accounts": [...], "bills": [...], "externalMappings":
[...]}, with memory that does not grow with the file.

The file is read once, as a stream of JSON events (ijson), and checked record by record as
m3terdata.parsing checks a record: a bill's line items are parsed one at a time and never held
together. Checked records go to anonymous temporary files, so that the writer can take them in
the order accounts, bills, external mappings whatever the file's order, and a bill's lines twice
(its content hash, then its rows). Nothing is handed out before the whole file has been read:
a file that is not UTF-8, not JSON, nested too deeply, shaped otherwise or holding an invalid
record is refused before anything is written.
"""

import ast
import codecs
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import ijson

from m3terdata.parsing import (
    ACCOUNT_FIELDS,
    BILL_FIELDS,
    EXTERNAL_MAPPING_FIELDS,
    LineNumbering,
    M3terRecordError,
    bill_total_complete,
    line_item_complete,
    line_items_not_a_list,
    parse_bill_head,
    parse_line_item,
    parse_record,
)

COLLECTIONS = ("accounts", "bills", "externalMappings")
SHAPE = '{"accounts": [...], "bills": [...], "externalMappings": [...]}'
# m3ter's records nest five deep (file, bills, bill, lineItems, line); the margin is for fields
# m3ter adds, which are skipped. Deeper is not m3ter data, and would only cost memory.
MAX_DEPTH = 32
# Parsed lines go to the temporary file this many at a time.
LINE_BATCH = 1000
BILL_KEYS = {key for key, *_ in BILL_FIELDS}
READ_SIZE = 64 * 1024


class M3terFileError(ValueError):
    """The file as a whole cannot be read; the message says why, in words for its author."""


class _Spool:
    """Python values in an anonymous temporary file (pickled: the file is this process's own,
    gone when closed, and written by nobody else)."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), with the file)

    def end(self) -> int:
        return self._file.tell()

    def append(self, value) -> None:
        pickle.dump(value, self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def read(self, offset: int = 0) -> Iterator:
        """The values from offset on; the spool is no longer appended to by then."""
        self._file.seek(offset)
        while True:
            try:
                # One unpickler per value: an unpickler remembers every object it loaded.
                yield pickle.load(self._file)
            except EOFError:
                return

    def close(self):
        self._file.close()


class BillLines:
    """A bill's line items as the mirror stores them, read from the spool each time they are
    iterated (bill_upsert reads them twice: the content hash, then the rows)."""

    def __init__(self, spool: _Spool, *, offset: int, count: int, currency: str, numbering):
        self._spool = spool
        self._offset = offset
        self.count = count
        self._currency = currency
        self._numbering = numbering

    def __iter__(self) -> Iterator[dict]:
        position = 0
        if not self.count:
            return
        for batch in self._spool.read(self._offset):
            for item in batch:
                sequence = self._numbering.sequence(item, position)
                yield line_item_complete(item, currency=self._currency, sequence=sequence)
                position += 1
            if position >= self.count:
                return


class M3terFile:
    """A checked file's records, read back in the order they are written: accounts, bills,
    external mappings, each with its index in the file."""

    def __init__(self):
        self.spools = {name: _Spool() for name in (*COLLECTIONS, "lines")}

    def accounts(self) -> Iterator[tuple[int, dict]]:
        yield from self.spools["accounts"].read()

    def bills(self) -> Iterator[tuple[int, dict, BillLines]]:
        for index, values, offset, count, numbering in self.spools["bills"].read():
            lines = BillLines(
                self.spools["lines"],
                offset=offset,
                count=count,
                currency=values["currency"],
                numbering=numbering,
            )
            yield index, values, lines

    def external_mappings(self) -> Iterator[tuple[int, dict, object]]:
        """(index, values, the record's id as the file gave it, for errors)."""
        yield from self.spools["externalMappings"].read()

    def close(self):
        for spool in self.spools.values():
            spool.close()


@contextmanager
def m3ter_file_read(stream) -> Iterator[M3terFile]:
    """Read and check a file from a binary stream (seekable, so that a JSON syntax error can be
    placed by line and column). Raises M3terFileError or M3terRecordError before anything is
    handed out."""
    checked = _Utf8Checked(stream)
    file = M3terFile()
    try:
        try:
            _Reader(ijson.basic_parse(checked, buf_size=READ_SIZE), file).read()
        except ijson.JSONError as error:
            raise M3terFileError(_syntax_error_text(error, stream, checked.chunk_start)) from None
        yield file
    finally:
        file.close()


@contextmanager
def m3ter_payload_read(payload) -> Iterator[M3terFile]:
    """The same for data already in memory (the demo's, a test's)."""
    file = M3terFile()
    try:
        _Reader(_events(payload), file).read()
        yield file
    finally:
        file.close()


def _events(value) -> Iterator[tuple[str, object]]:
    """ijson's events for a Python value, numbers as json.loads gives them."""
    if isinstance(value, dict):
        yield "start_map", None
        for key, item in value.items():
            yield "map_key", key
            yield from _events(item)
        yield "end_map", None
    elif isinstance(value, list):
        yield "start_array", None
        for item in value:
            yield from _events(item)
        yield "end_array", None
    elif value is None:
        yield "null", None
    elif isinstance(value, bool):
        yield "boolean", value
    elif isinstance(value, (int, float)):
        yield "number", value
    else:
        yield "string", value


STARTS = {"start_map", "start_array"}
ENDS = {"end_map", "end_array"}


class _Reader:
    """One pass over the events. A record error is kept (the first of each collection) and the
    rest of that collection skipped, while the file is read on to its end: a problem with the
    whole file (syntax, nesting, unknown keys) is reported before any record's, as when the
    file was read whole before it was checked."""

    def __init__(self, events: Iterable, file: M3terFile):
        self._events = iter(events)
        self.spools = file.spools
        self._depth = 0
        self._errors: dict[str, M3terRecordError] = {}

    def read(self):
        event, value = next(self._events)
        if event != "start_map":
            self._fail("(file)", self._shape_error(f"expected an object like {SHAPE}"))
            self._skip(event)
        else:
            self._top_level()
        for _ in self._events:
            pass  # the parser's own check that nothing follows
        for collection in ("(file)", *COLLECTIONS):
            if collection in self._errors:
                raise self._errors[collection]

    def _top_level(self):
        self._enter()
        seen, unknown = set(), set()
        for event, key in self._events:
            if event == "end_map":
                break
            event, value = next(self._events)
            if key not in COLLECTIONS:
                unknown.add(key)
                self._skip(event)
            elif key in seen:
                self._fail("(file)", self._shape_error(f"{key!r} appears twice; expected {SHAPE}"))
                self._skip(event)
            elif event != "start_array":
                self._fail(
                    key,
                    M3terRecordError(
                        collection=key,
                        index=None,
                        record_id=None,
                        field=key,
                        problem="expected a list",
                    ),
                )
                self._skip(event)
            else:
                seen.add(key)
                self._enter()
                self._collection(key)
        self._depth -= 1
        if unknown:
            # A misspelt or foreign key would otherwise import nothing and look like success.
            keys = ", ".join(map(repr, sorted(unknown)))
            self._errors["(file)"] = self._shape_error(f"unknown keys {keys}; expected {SHAPE}")

    @staticmethod
    def _shape_error(problem: str) -> M3terRecordError:
        return M3terRecordError(
            collection="(file)", index=None, record_id=None, field="(top level)", problem=problem
        )

    def _collection(self, name: str):
        read_record = {
            "accounts": self._account,
            "bills": self._bill,
            "externalMappings": self._external_mapping,
        }[name]
        index = 0
        for event, value in self._events:
            if event == "end_array":
                self._depth -= 1
                return
            if name in self._errors:
                self._skip(event)
                continue
            try:
                read_record(index, event, value)
            except M3terRecordError as error:
                self._fail(name, error)
            index += 1

    def _fail(self, collection: str, error: M3terRecordError):
        self._errors.setdefault(collection, error)

    def _account(self, index, event, value):
        record = self._value(event, value)
        values = parse_record(record, ACCOUNT_FIELDS, collection="accounts", index=index)
        self.spools["accounts"].append((index, values))

    def _external_mapping(self, index, event, value):
        record = self._value(event, value)
        values = parse_record(
            record, EXTERNAL_MAPPING_FIELDS, collection="externalMappings", index=index
        )
        self.spools["externalMappings"].append((index, values, record.get("id")))

    def _bill(self, index, event, value):
        if event != "start_map":
            parse_bill_head(self._value(event, value), index=index)  # says what it is instead
        self._enter()
        head, lines, twice = {}, None, False
        for event, key in self._events:
            if event == "end_map":
                break
            event, value = next(self._events)
            if key == "lineItems" and lines is None:
                lines = self._lines(index, event, value)
            elif key == "lineItems":
                twice = True
                self._skip(event)
            elif key in BILL_KEYS:
                head[key] = self._value(event, value)
            else:
                self._skip(event)
        self._depth -= 1
        # The bill's own fields are checked first, then its lines, as for a bill read whole:
        # in the file, the fields can follow the lines.
        values = parse_bill_head(head, index=index)
        bill_id = values["m3ter_id"]
        if twice:
            raise M3terRecordError(
                collection="bills",
                index=index,
                record_id=bill_id,
                field="lineItems",
                problem="appears twice in the bill",
            )
        offset, count, numbering, lines_subtotal, line_error, not_a_list = lines or self._no_lines()
        if not_a_list:
            raise line_items_not_a_list(collection="bills", index=index, bill_id=bill_id)
        if line_error:
            raise M3terRecordError(
                collection="bills",
                index=index,
                record_id=bill_id,
                field=line_error.field,
                problem=line_error.problem,
            )
        numbering.check(collection="bills", index=index, bill_id=bill_id)
        values = bill_total_complete(
            values, lines_subtotal=lines_subtotal, collection="bills", index=index
        )
        self.spools["bills"].append((index, values, offset, count, numbering))

    def _no_lines(self):
        return self.spools["lines"].end(), 0, LineNumbering(), Decimal(0), None, False

    def _lines(self, index, event, value):
        """Parse and spool a bill's lineItems; returns (where they start in the spool, how many,
        their numbering, their subtotals summed, the first line's error or None, whether it was
        not a list)."""
        spool = self.spools["lines"]
        offset, numbering = spool.end(), LineNumbering()
        if event != "start_array":
            # m3ter leaves an empty list out or sends null; anything else is a mistake.
            return offset, 0, numbering, Decimal(0), None, bool(self._value(event, value))
        self._enter()
        batch, count, subtotal, error = [], 0, Decimal(0), None
        for event, value in self._events:
            if event == "end_array":
                break
            if error:
                self._skip(event)
                continue
            try:
                item = parse_line_item(
                    self._value(event, value),
                    position=count,
                    collection="bills",
                    index=index,
                    bill_id=None,
                )
            except M3terRecordError as problem:
                error = problem
                continue
            numbering.add(item)
            subtotal += item["subtotal"]
            batch.append(item)
            count += 1
            if len(batch) == LINE_BATCH:
                spool.append(batch)
                batch = []
        self._depth -= 1
        if batch:
            spool.append(batch)
        return offset, count, numbering, subtotal, error, False

    def _enter(self):
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise M3terFileError(
                "nests arrays and objects too deeply to be m3ter data (more than "
                f"{MAX_DEPTH} levels)"
            )

    def _value(self, event, value):
        """The value that starts with this event, built whole (a record or one of its fields:
        small, and no deeper than MAX_DEPTH). Scalars are taken in the loops, not by a call
        each: this runs for every field of every line."""
        if event not in STARTS:
            return float(value) if value.__class__ is Decimal else value
        self._enter()
        events = self._events
        if event == "start_map":
            result = {}
            for event, key in events:
                if event == "end_map":
                    break
                event, value = next(events)
                if event in STARTS:
                    value = self._value(event, value)
                elif value.__class__ is Decimal:
                    value = float(value)  # json.loads's numbers, which the parsers expect
                result[key] = value
        else:
            result = []
            for event, value in events:
                if event == "end_array":
                    break
                if event in STARTS:
                    value = self._value(event, value)
                elif value.__class__ is Decimal:
                    value = float(value)
                result.append(value)
        self._depth -= 1
        return result

    def _skip(self, event):
        """Read past the value that starts with this event without keeping it."""
        if event not in STARTS:
            return
        self._enter()
        level = 1
        for event, _ in self._events:
            if event in STARTS:
                level += 1
                self._enter()
            elif event in ENDS:
                level -= 1
                self._depth -= 1
                if not level:
                    return


class _Utf8Checked:
    """The stream's bytes as the parser reads them, refusing the first that is not UTF-8 with
    where it is (the parser's own message would not say)."""

    def __init__(self, stream):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.chunk_start = 0  # where the last chunk read began
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if size == 0:
            return data
        pending = len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            raise M3terFileError(
                f"is not UTF-8 text (byte {self._offset - pending + error.start} is not): export "
                "it from m3ter as JSON, which is UTF-8"
            ) from None
        self.chunk_start = self._offset
        self._offset += len(data)
        return data


def _syntax_error_text(error: ijson.JSONError, stream, chunk_start: int) -> str:
    """The parser's complaint, with the line and column where it noticed (json.loads's place,
    or the last character of a longer token that is out of place)."""
    text = str(error)
    if text[:2] in ("b'", 'b"'):
        # ijson gives the repr of the message's bytes when its excerpt of the file cuts a
        # character in two.
        text = ast.literal_eval(text).decode("utf-8", errors="replace")
    reason = text.splitlines()[0].split(" error: ", 1)[-1].rstrip(".")
    if not stream.seekable():
        return f"is not valid JSON: {reason}"
    line, column = _line_and_column(stream, _error_offset(stream, chunk_start))
    return f"is not valid JSON: {reason} at line {line}, column {column}"


def _error_offset(stream, chunk_start: int) -> int:
    """The byte the parser fails on: it does not tell, so the stream is parsed again, a byte at
    a time from the start of the chunk it failed in."""
    stream.seek(0)
    fed = _FedSlowlyFrom(stream, chunk_start)
    try:
        for _ in ijson.basic_parse(fed, buf_size=READ_SIZE):
            pass
    except ijson.JSONError:
        pass
    return fed.failed_at()


class _FedSlowlyFrom:
    def __init__(self, stream, slow_from: int):
        self._stream = stream
        self._slow_from = slow_from
        self._given = 0
        self._last = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return self._stream.read(0)
        ahead = self._slow_from - self._given
        data = self._stream.read(min(size, ahead) if ahead > 0 else 1)
        self._last = len(data)
        self._given += len(data)
        return data

    def failed_at(self) -> int:
        """The last byte given, or the end of the stream when the parser wanted more."""
        return self._given - 1 if self._last else self._given


def _line_and_column(stream, offset: int) -> tuple[int, int]:
    """1-based, the column in characters, as json.loads reports them; read in chunks (a whole
    file can be one line)."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line, column, read = 1, 1, 0
    while read < offset:
        chunk = stream.read(min(READ_SIZE, offset - read))
        if not chunk:
            break
        read += len(chunk)
        text = decoder.decode(chunk)
        newline = text.rfind("\n")
        if newline >= 0:
            line += text.count("\n")
            column = len(text) - newline
        else:
            column += len(text)
    return line, column
