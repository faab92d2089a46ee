"""Lambda's log formats on stdout: the root logger's handler, and the runtime's own records.

Text:  `[LEVEL]\\t<YYYY-MM-DDThh:mm:ss.mmmZ>\\t<requestId>\\t<message>`
JSON:  `{"timestamp", "level", "message", "logger", "requestId", ...}` (AWS_LAMBDA_LOG_FORMAT=JSON),
       with AWS_LAMBDA_LOG_LEVEL setting the root logger's level (TRACE means DEBUG).

Why stdout with `\\r`: the platform captures stdout line by line, so one record must be one line;
newlines inside a record (multi-line messages, tracebacks) become `\\r`, as Lambda's Node runtime
does. Why lazily: `import logging` costs ~10 ms of cold start, and a function that never imports
it never needs it. A finder on sys.meta_path configures the root logger the moment anyone imports
`logging`, before their code can use it, so the result is the same as configuring it up front.
"""
import sys
import time

# Reserved LogRecord attributes that never become extra JSON fields (Lambda's list).
_RESERVED = frozenset(
    (
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "aws_request_id",
        "tenant_id",
        "_frame_type",
    )
)
_LEVELS = {
    "CRITICAL": 50,
    "FATAL": 50,
    "ERROR": 40,
    "WARN": 30,
    "WARNING": 30,
    "INFO": 20,
    "DEBUG": 10,
    "NOTSET": 0,
}
_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_JSON_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Settings:
    """Log format and level from the environment, and the invocation records are stamped with."""

    json = False
    level = ""  # a logging level name, or "" to leave the root logger's level alone
    request_id = ""
    tenant_id = None

    @classmethod
    def load(cls, environ):
        cls.json = environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
        level = environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
        cls.level = "DEBUG" if level == "TRACE" else level


def write_record(text):
    """Writes one log record as one stdout line."""
    if text.endswith("\n"):
        text = text[:-1]
    sys.stdout.write(text.replace("\n", "\r") + "\n")


def is_enabled(level_name):
    """Whether the configured AWS_LAMBDA_LOG_LEVEL lets a record of this level through."""
    threshold = _LEVELS.get(Settings.level)
    return threshold is None or _LEVELS.get(level_name, 0) >= threshold


def install():
    """Makes the root logger log like Lambda's, now if `logging` is loaded, else on its import."""
    logging = sys.modules.get("logging")
    if logging is not None:
        configure(logging)
    else:
        sys.meta_path.insert(0, _ConfigureOnImport())


def configure(logging):
    """Adds the Lambda handler to the root logger (and UTC timestamps for every formatter)."""
    logging.Formatter.converter = time.gmtime
    handler = _handler_class(logging)()
    if Settings.json:
        handler.setFormatter(_json_formatter_class(logging)())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT, _TEXT_DATE_FORMAT))
    handler.addFilter(_stamp_record)
    root = logging.getLogger()
    if Settings.level and isinstance(logging.getLevelName(Settings.level), int):
        root.setLevel(Settings.level)
    root.addHandler(handler)


def _stamp_record(record):
    record.aws_request_id = Settings.request_id or ""
    record.tenant_id = Settings.tenant_id
    return True


def _handler_class(logging):
    class LambdaLoggerHandler(logging.Handler):
        """Formats each record and writes it to stdout as one line."""

        def emit(self, record):
            try:
                write_record(self.format(record))
            except RecursionError:
                raise
            except Exception:
                self.handleError(record)

    return LambdaLoggerHandler


def _json_formatter_class(logging):
    from lamina_json import dumps

    class JsonFormatter(logging.Formatter):
        """Lambda's structured record: fixed keys, then the record's extra attributes."""

        def __init__(self):
            super().__init__(datefmt=_JSON_DATE_FORMAT)

        def format(self, record):
            level = min(50, max(0, record.levelno)) // 10 * 10
            record.levelno = level
            record.levelname = logging.getLevelName(level)
            fields = {
                "timestamp": self.formatTime(record, self.datefmt),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
            }
            exc_info = record.exc_info
            if exc_info and exc_info[0] is not None:
                import traceback

                fields["stackTrace"] = traceback.format_tb(exc_info[2])
                fields["errorType"] = exc_info[0].__name__
                fields["errorMessage"] = str(exc_info[1])
            fields["requestId"] = getattr(record, "aws_request_id", None)
            if exc_info and exc_info[0] is not None:
                fields["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
            tenant_id = getattr(record, "tenant_id", None)
            if tenant_id is not None:
                fields["tenantId"] = tenant_id
            for key, value in record.__dict__.items():
                if key not in _RESERVED and key not in fields:
                    fields[key] = value
            fields = {key: value for key, value in fields.items() if value is not None}
            # default=str: an extra attribute json cannot encode must not break the caller's code
            return dumps(fields, ensure_ascii=False, default=str) + "\n"

    return JsonFormatter


def runtime_record(level_name, message):
    """A record from the runtime itself, shaped as if it came through the root logger."""
    if not is_enabled(level_name):
        return
    now = time.time()
    if Settings.json:
        from lamina_json import dumps

        record = {
            "timestamp": time.strftime(_JSON_DATE_FORMAT, time.gmtime(now)),
            "level": level_name,
            "message": message,
            "logger": "root",
            "requestId": Settings.request_id or "",
        }
        write_record(dumps(record, ensure_ascii=False))
    else:
        stamp = time.strftime(_TEXT_DATE_FORMAT, time.gmtime(now))
        millis = int(now * 1000) % 1000
        request_id = Settings.request_id or ""
        write_record(f"[{level_name}]\t{stamp}.{millis:03d}Z\t{request_id}\t{message}")


class _ConfigureOnImport:
    """A one-shot sys.meta_path finder: lets `logging` load normally, then configures it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "logging":
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _ConfiguringLoader(spec.loader, self)
        return spec


class _ConfiguringLoader:
    """Wraps logging's real loader; after the module has run, configures it and steps aside."""

    def __init__(self, loader, finder):
        self._loader = loader
        self._finder = finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        configure(module)

    def __getattr__(self, name):  # get_source, get_code, is_package, ... of the real loader
        return getattr(self._loader, name)
