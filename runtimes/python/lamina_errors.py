"""Lambda's Python error payloads, and the `[ERROR]` log record written for each one.

Payload: {"errorMessage", "errorType", "requestId", "stackTrace": [formatted frames]}, where the
frames start at the first frame that is not the runtime's own (the caller's code, or importlib
for an exception raised while importing the handler module), formatted by traceback.format_list
from (file, line, function, source) tuples so that no column carets appear, as on Lambda.
`traceback` is imported only when an error happens.
"""
import os

import lamina_logging

# The runtime's own source files: their frames are cut from the head of a stack trace.
RUNTIME_FILES = set()
_INDENT = "\u00a0"  # Lambda's text log replaces a trace line's leading spaces with NO-BREAK SPACE


class Fault(Exception):
    """A failure the runtime itself names (Runtime.*), with an optional ready-made trace."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def make_error(message, error_type, stack_trace, request_id=""):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id or "",
        "stackTrace": stack_trace or [],
    }


def user_frames(tb):
    """(file, line, function, source) of each frame, minus the runtime's leading ones."""
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for index, frame in enumerate(frames):
        if frame[0] not in RUNTIME_FILES:
            return frames[index:]
    return frames


def from_exception(error, request_id=""):
    """The payload and X-Ray cause for an exception the function raised."""
    import traceback

    frames = user_frames(error.__traceback__)
    error_type = type(error).__name__
    message = describe(error)
    payload = make_error(message, error_type, traceback.format_list(frames), request_id)
    return payload, xray_cause(error_type, message, frames)


def describe(error):
    """str(error), or a placeholder when the exception's own __str__ fails."""
    try:
        return str(error)
    except Exception:
        return f"<exception str() failed: {type(error).__name__}>"


def from_fault(fault, request_id=""):
    payload = make_error(fault.message, fault.error_type, fault.trace, request_id)
    return payload, xray_cause("LambdaValidationError", fault.message, [])


def xray_cause(error_type, message, frames):
    """The Lambda-Runtime-Function-XRay-Error-Cause header value (ASCII JSON; "" when > 1 MiB)."""
    from lamina_json import dumps

    cause = dumps(
        {
            "working_directory": os.getcwd(),
            "exceptions": [
                {
                    "message": message,
                    "type": error_type,
                    "stack": [
                        {"label": name, "path": path, "line": line}
                        for path, line, name, _ in frames
                    ],
                }
            ],
            "paths": list(dict.fromkeys(path for path, _, _, _ in frames)),
        }
    )
    return cause if len(cause) < 1024 * 1024 else ""


def log_error(payload):
    """Writes the `[ERROR] Type: message` record (Text) or the JSON error record to stdout."""
    if lamina_logging.Settings.json:
        import time

        from lamina_json import ESCAPE_NON_ASCII, dumps

        record = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "log_level": "ERROR",
            **payload,
        }
        lamina_logging.write_record(dumps(record, ensure_ascii=ESCAPE_NON_ASCII))
        return
    head = "[ERROR]"
    if payload.get("errorType"):
        head += " " + payload["errorType"]
    if payload.get("errorMessage"):
        head += (":" if payload.get("errorType") else "") + " " + payload["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in payload.get("stackTrace") or []:
        if element == "":
            lines.append("")
            continue
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append(_INDENT * (len(line) - len(stripped)) + stripped)
    lamina_logging.write_record("\n".join(lines))
