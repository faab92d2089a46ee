"""JSON for events, results and error payloads, without importing the `json` package.

Why: `import json` pulls in `re` and its compiler and costs several milliseconds of every cold
start, while the C accelerator `_json` that `json` itself drives is always built into CPython.
These two functions drive `_json` the same way `json.loads` / `json.dumps` do, so results are
byte-for-byte what `json` would produce; on anything unexpected (another interpreter, a changed
private signature, a parse error whose message must be exact) they hand over to `json` itself.
"""
import sys

try:
    from _json import encode_basestring as _quote_unicode
    from _json import encode_basestring_ascii as _quote_ascii
    from _json import make_encoder as _make_c_encoder
    from _json import make_scanner as _make_c_scanner
except ImportError:  # not CPython: the json package is the only way
    _make_c_encoder = _make_c_scanner = None

_WHITESPACE = " \t\n\r"

# Lambda's python3.12+ runtimes write results and error payloads with non-ASCII characters as is;
# earlier ones escape them (\u00e9). Both are the same JSON; this keeps the bytes identical too.
ESCAPE_NON_ASCII = sys.version_info < (3, 12)


class _DecoderSettings:
    """The attributes json.JSONDecoder exposes to the C scanner, with json.loads' defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {
        "-Infinity": float("-inf"),
        "Infinity": float("inf"),
        "NaN": float("nan"),
    }.__getitem__


_scan = None
if _make_c_scanner is not None:
    try:
        _scan = _make_c_scanner(_DecoderSettings())
    except Exception:
        _scan = None


def loads(data):
    """Parses a JSON document (bytes or str) exactly as json.loads does."""
    if _scan is not None:
        try:
            text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
            if not text.startswith("\ufeff"):
                start = len(text) - len(text.lstrip(_WHITESPACE))
                value, end = _scan(text, start)
                if end == len(text) or not text[end:].strip(_WHITESPACE):
                    return value
        except Exception:
            pass  # json.loads below gives the exact error (or handles other encodings)
    import json

    return json.loads(data)


def not_serializable(value):
    """json's own refusal, used when nothing else knows how to encode a value."""
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def encode_decimal(value):
    """Encodes decimal.Decimal (what boto3 returns for DynamoDB numbers) as a JSON number.

    Lambda's runtime writes str(Decimal) verbatim; the stdlib encoder cannot emit raw text, so
    whole numbers become int (exact) and the rest float (nearest double).
    """
    decimal = sys.modules.get("decimal")  # no Decimal can exist before someone imported decimal
    if decimal is None or not isinstance(value, decimal.Decimal):
        return not_serializable(value)
    if value.is_nan():
        return float("nan")
    if value.is_finite() and value.as_tuple().exponent >= 0:
        return int(value)
    return float(value)


def dumps(value, ensure_ascii=True, default=encode_decimal):
    """Serialises like json.dumps(value, ensure_ascii=..., default=...) with default separators."""
    if _make_c_encoder is not None:
        try:
            encode = _make_c_encoder(
                {},  # circular-reference markers, fresh per call as json does
                default,
                _quote_ascii if ensure_ascii else _quote_unicode,
                None,  # indent
                ": ",
                ", ",
                False,  # sort_keys
                False,  # skipkeys
                True,  # allow_nan
            )
        except Exception:
            encode = None
        if encode is not None:
            return "".join(encode(value, 0))
    import json

    return json.dumps(value, ensure_ascii=ensure_ascii, default=default)
