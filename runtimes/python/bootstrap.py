"""Lamina's runtime interface client for python3.x functions (standard library only).

Started as `python3 bootstrap.py` in LAMBDA_TASK_ROOT. It imports the handler named by _HANDLER
(`module.function`, or `dir/module.function`), then loops: GET the next event from the Runtime API
at AWS_LAMBDA_RUNTIME_API, call `handler(event, context)`, POST the JSON result or Lambda's error
payload. Init failures go to /runtime/init/error and end the process with status 1. Inside
Lamina's sandbox the same conversation goes through Lamina's runtime channel on the unix socket
LAMINA_RUNTIME_SOCKET (lamina_runtime_channel).

Cold start is on the benchmark, so this file and its lamina_* helpers import as little as
possible: no http.client (lamina_runtime_api), no json package (lamina_json), logging only once
the function imports it (lamina_logging), traceback only when something fails (lamina_errors).
"""
import os
import sys

# The helpers come from this directory, which is sys.path[0] until main() puts the task root in
# front; `lamina_` names keep them clear of the function's own modules.
import lamina_context
import lamina_errors
import lamina_json
import lamina_logging
import lamina_runtime_api
from lamina_context import LambdaContext
from lamina_errors import Fault
from lamina_json import ESCAPE_NON_ASCII, dumps, loads
from lamina_runtime_api import RuntimeApiClient, RuntimeApiError

_INIT_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. "
    "The most likely cause is an issue in the function code."
)


def main():
    _unbuffer_standard_streams()
    helpers = (lamina_context, lamina_errors, lamina_json, lamina_logging, lamina_runtime_api)
    lamina_errors.RUNTIME_FILES.update(module.__file__ for module in helpers)
    lamina_errors.RUNTIME_FILES.add(os.path.join(os.path.dirname(__file__), "lamina_runtime_channel.py"))
    lamina_errors.RUNTIME_FILES.add(main.__code__.co_filename)
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("AWS_LAMBDA_RUNTIME_API is not set: nowhere to get events from\n")
        sys.exit(1)
    version = sys.version_info
    # Inside Lamina's sandbox: the Runtime API's unix socket, and the runtime channel on it. Not
    # for the function's eyes; a refused channel ends the runtime (no silent fallback to HTTP).
    socket_path = os.environ.pop("LAMINA_RUNTIME_SOCKET", None) or None
    client = RuntimeApiClient(
        address, f"lamina-python-ric/{version.major}.{version.minor}.{version.micro}", socket_path
    )
    if socket_path is not None:
        try:
            client = client.open_channel()
        except OSError as failure:
            sys.stderr.write(f"Lamina's runtime channel is unavailable, stopping: {failure}\n")
            sys.exit(1)
    if os.environ.get("LAMINA_PRESTARTED") == "1":
        # Pre-started before being bound to a function: wait for the function's environment.
        assigned = loads(client.assignment())["environment"]
        os.environ.clear()
        os.environ.update(assigned)
        os.environ.pop("LAMINA_RUNTIME_SOCKET", None)
        if "TZ" in assigned:
            import time

            time.tzset()
    lamina_logging.Settings.load(os.environ)

    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    lamina_logging.install()

    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as fault:
        payload = lamina_errors.make_error(fault.message, fault.error_type, fault.trace)
    except Exception as error:
        import traceback

        frames = lamina_errors.user_frames(error.__traceback__)
        payload = lamina_errors.make_error(
            lamina_errors.describe(error), type(error).__name__, traceback.format_list(frames)
        )
    else:
        serve(client, handler)
        return
    # sys.exit() during the import is not caught above: the process simply ends with its status,
    # which the platform reports as Runtime.ExitError, as Lambda does.
    lamina_logging.runtime_record("WARNING", _INIT_WARNING)
    lamina_errors.log_error(payload)
    try:
        client.post_init_error(_payload_bytes(payload), payload["errorType"])
    except (OSError, RuntimeApiError) as failure:
        sys.stderr.write(f"Could not report the init error to the Runtime API: {failure}\n")
    sys.exit(1)


def load_handler(name):
    """Imports the handler's module and returns the function; init failures raise Fault."""
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as error:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{name}': {error}") from None
    import importlib

    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise Fault(
                "Runtime.BuiltInModuleConflict",
                f"Cannot use built-in module {module_name} as a handler module",
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            trace,
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise Fault("Runtime.HandlerNotFound", message) from None


def serve(client, handler):
    """The invoke loop: runs until the Runtime API goes away or the function exits the process."""
    settings = lamina_logging.Settings
    environ = os.environ
    while True:
        try:
            invocation = client.next_invocation()
        except (OSError, RuntimeApiError) as failure:
            sys.stderr.write(f"Runtime API unavailable, stopping: {failure}\n")
            sys.exit(1)
        headers = invocation.headers
        settings.request_id = invocation.request_id
        settings.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            environ.pop("_X_AMZN_TRACE_ID", None)
        handle(client, handler, invocation)


def handle(client, handler, invocation):
    """Runs one invocation and posts its result or its error."""
    request_id = invocation.request_id
    headers = invocation.headers
    try:
        context = LambdaContext(
            request_id,
            int(headers.get("lambda-runtime-deadline-ms") or 0),
            headers.get("lambda-runtime-invoked-function-arn"),
            _json_header(headers.get("lambda-runtime-client-context"), "Client Context"),
            _json_header(headers.get("lambda-runtime-cognito-identity"), "Cognito Identity"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        event = _decode_event(invocation.body, headers.get("content-type"))
        body, content_type = _encode_result(handler(event, context))
    except Fault as fault:
        payload, cause = lamina_errors.from_fault(fault, request_id)
    except Exception as error:
        payload, cause = lamina_errors.from_exception(error, request_id)
    except BaseException as stop:  # SystemExit, KeyboardInterrupt: the process is ending
        _report_exit(client, request_id, stop)
        raise
    else:
        _post("response", client.post_response, request_id, body, content_type)
        return
    lamina_errors.log_error(payload)
    error_type = payload["errorType"]
    _post("error", client.post_error, request_id, _payload_bytes(payload), error_type, cause)


def _decode_event(body, content_type):
    if content_type and not content_type.startswith("application/json"):
        return body  # Lambda hands non-JSON payloads over as bytes
    try:
        return loads(body)
    except Exception as error:
        raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {error}") from None


def _encode_result(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return dumps(result, ensure_ascii=ESCAPE_NON_ASCII).encode("utf-8"), "application/json"
    except Exception as error:
        raise Fault("Runtime.MarshalError", f"Unable to marshal response: {error}") from None


def _json_header(value, name):
    if not value:
        return None
    try:
        value = value.encode("latin-1").decode("utf-8")  # header bytes arrive as latin-1
    except UnicodeError:
        pass
    try:
        return loads(value)
    except Exception as error:
        raise Fault(
            "Runtime.LambdaContextUnmarshalError", f"Unable to parse {name} JSON: {error}"
        ) from None


def _payload_bytes(payload):
    return dumps(payload, ensure_ascii=ESCAPE_NON_ASCII).encode("utf-8")


def _report_exit(client, request_id, stop):
    """Answers the invocation the way Lambda does when the runtime process exits mid-invoke."""
    if isinstance(stop, SystemExit):
        code = stop.code
        status = 0 if code is None else code & 0xFF if isinstance(code, int) else 1
        reason = (
            "Runtime exited without providing a reason"
            if status == 0
            else f"Runtime exited with error: exit status {status}"
        )
    elif isinstance(stop, KeyboardInterrupt):
        reason = "Runtime exited with error: signal: interrupt"
    else:
        reason = "Runtime exited with error: exit status 1"
    message = f"RequestId: {request_id} Error: {reason}"
    payload = {"errorType": "Runtime.ExitError", "errorMessage": message}
    try:
        client.post_error(request_id, _payload_bytes(payload), "Runtime.ExitError")
    except (OSError, RuntimeApiError):
        pass  # the platform still sees the process exit


def _post(what, send, *args):
    """Sends an answer; a refusal (413 too large, 4xx state errors) is noted, not fatal."""
    try:
        status, _, body = send(*args)
    except OSError as failure:
        sys.stderr.write(f"Could not send the {what} to the Runtime API: {failure}\n")
        return
    if status != 202:
        detail = body[:300].decode("utf-8", "replace")
        sys.stderr.write(f"The Runtime API refused the {what} ({status}): {detail}\n")


def _unbuffer_standard_streams():
    """Makes stdout/stderr write through at once (as `python -u` would): the platform may kill
    the process at any moment (timeout, shutdown), and buffered log lines would be lost."""
    import io

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            continue
        try:
            stream.flush()
            raw = io.FileIO(stream.fileno(), "w", closefd=False)
        except (OSError, ValueError, AttributeError):
            continue  # not backed by a file descriptor: leave it as it is
        unbuffered = io.TextIOWrapper(
            raw, encoding="utf-8", errors=stream.errors, write_through=True
        )
        setattr(sys, name, unbuffered)


if __name__ == "__main__":
    main()
