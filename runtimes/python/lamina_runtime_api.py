"""A minimal HTTP/1.1 client for the Runtime API: one keep-alive connection, reused for every call.

Why not http.client: importing it drags in email, ssl and hashlib (about 25 ms of every cold start)
for a peer that is always the platform's own plain-HTTP server on loopback. This speaks just the
part of HTTP/1.1 that server uses: Content-Length or chunked bodies, keep-alive and
`Connection: close`.
"""
try:
    import _socket as _sockets  # the C module behind `socket`, without socket.py's enum/selectors
except ImportError:
    import socket as _sockets

_API = "/2018-06-01/runtime"
_SAFE_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")
_JOIN_LIMIT = 64 * 1024  # bodies up to this size go out in the same packet as the headers


class RuntimeApiError(Exception):
    """The Runtime API answered with an unexpected status."""

    def __init__(self, method, path, status, body):
        super().__init__(
            f"{method} {path} answered {status}: {body[:500].decode('utf-8', 'replace')}"
        )
        self.status = status


class Invocation:
    """One event from /invocation/next: its body and the Lambda-Runtime-* headers."""

    __slots__ = ("body", "headers", "request_id")

    def __init__(self, body, headers):
        self.body = body
        self.headers = headers  # lower-cased names
        self.request_id = headers.get("lambda-runtime-aws-request-id", "")


class RuntimeApiClient:
    """Talks to http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/... over one connection.

    With `socket_path` (LAMINA_RUNTIME_SOCKET, inside Lamina's sandbox) the same API is reached on
    that unix socket instead, and `open_channel` offers Lamina's runtime channel.
    """

    def __init__(self, address, user_agent, socket_path=None):
        host, _, port = address.rpartition(":")
        if not host:
            raise ValueError(f"AWS_LAMBDA_RUNTIME_API is not host:port: {address!r}")
        self._target = (host.strip("[]"), int(port))
        self._socket_path = socket_path
        self._preamble = f"Host: {address}\r\nUser-Agent: {user_agent}\r\n"
        self._sock = None
        self._pending = b""  # bytes received beyond the last response

    def open_channel(self):
        """Lamina's runtime channel on a connection of its own (see lamina_runtime_channel)."""
        import lamina_runtime_channel

        sock = self._open_unix()
        try:
            pending = lamina_runtime_channel.upgrade(sock, self._preamble)
        except BaseException:
            sock.close()
            raise
        return lamina_runtime_channel.RuntimeChannel(sock, pending, self)

    def assignment(self):
        """A pre-started runtime waits here for the function it is bound to (JSON bytes)."""
        status, _headers, body = self._call("GET", "/lamina/2026-11-01/assignment")
        if status != 200:
            raise RuntimeApiError("GET", "/lamina/2026-11-01/assignment", status, body)
        return body

    def next_invocation(self):
        """Waits for the next event, without a timeout: the environment is frozen in between."""
        status, headers, body = self._call("GET", f"{_API}/invocation/next")
        if status != 200:
            raise RuntimeApiError("GET", "/invocation/next", status, body)
        return Invocation(body, headers)

    def post_response(self, request_id, body, content_type):
        """Answers an invocation; returns (status, headers, body): 202, or 413 if too large."""
        path = f"{_API}/invocation/{_quote_id(request_id)}/response"
        return self._call("POST", path, body, (("Content-Type", content_type),))

    def post_error(self, request_id, payload, error_type, xray_cause=None):
        """Reports a failed invocation with Lambda's error payload."""
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Function-Error-Type", error_type),
        ]
        if xray_cause:
            headers.append(("Lambda-Runtime-Function-XRay-Error-Cause", xray_cause))
        path = f"{_API}/invocation/{_quote_id(request_id)}/error"
        return self._call("POST", path, payload, headers)

    def post_init_error(self, payload, error_type):
        """Reports that the function could not be initialised."""
        headers = (
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Function-Error-Type", error_type),
        )
        return self._call("POST", f"{_API}/init/error", payload, headers)

    def _call(self, method, path, body=None, headers=()):
        head = f"{method} {path} HTTP/1.1\r\n{self._preamble}"
        for name, value in headers:
            # values may come from user code (an exception's class name): no line breaks
            value = value.replace("\r", " ").replace("\n", " ")
            head += f"{name}: {value}\r\n"
        if body is not None:
            head += f"Content-Length: {len(body)}\r\n"
        head = (head + "\r\n").encode("utf-8")
        if body and len(body) <= _JOIN_LIMIT:
            parts = (head + body,)
        elif body:
            parts = (head, body)
        else:
            parts = (head,)
        for attempt in (1, 2):
            reused = self._sock is not None
            if not reused:
                self._connect()
            try:
                for part in parts:
                    self._sock.sendall(part)
                return self._read_response(method)
            except OSError:
                self._close()
                # A kept-alive connection the server has since closed fails on first use: retry
                # once on a fresh connection. A fresh connection failing means the API is gone.
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _open_unix(self):
        sock = _sockets.socket(_sockets.AF_UNIX, _sockets.SOCK_STREAM)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        return sock

    def _connect(self):
        if self._socket_path is not None:
            self._sock = self._open_unix()
            self._pending = b""
            return
        host, port = self._target
        error = None
        # bytes, because a str host makes getaddrinfo load the idna codec (~5 ms)
        name = host.encode("ascii") if host.isascii() else host
        for family, kind, proto, _, address in _sockets.getaddrinfo(
            name, port, 0, _sockets.SOCK_STREAM
        ):
            sock = _sockets.socket(family, kind, proto)
            try:
                sock.setsockopt(_sockets.IPPROTO_TCP, _sockets.TCP_NODELAY, 1)
                sock.connect(address)
            except OSError as failure:
                sock.close()
                error = failure
                continue
            self._sock = sock
            self._pending = b""
            return
        raise error or OSError(f"cannot resolve {host}")

    def _close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._pending = b""

    def _receive(self):
        chunk = self._sock.recv(262144)
        if not chunk:
            raise ConnectionResetError("the Runtime API closed the connection")
        return chunk

    def _read_response(self, method):
        buffer = self._pending
        while True:
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                buffer += self._receive()
                end = buffer.find(b"\r\n\r\n")
            lines = buffer[:end].decode("latin-1").split("\r\n")
            buffer = buffer[end + 4 :]
            status = int(lines[0].split(" ", 2)[1])
            if 100 <= status < 200:
                continue  # interim response (100 Continue): the real one follows
            break
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()

        length = headers.get("content-length")
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif length is not None:
            size = int(length)
            parts = [buffer]
            have = len(buffer)
            while have < size:
                chunk = self._receive()
                parts.append(chunk)
                have += len(chunk)
            buffer = b"".join(parts) if len(parts) > 1 else buffer
            body, buffer = buffer[:size], buffer[size:]
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body, buffer = self._read_chunked(buffer)
        else:  # body delimited by the end of the connection
            parts = [buffer]
            try:
                while True:
                    parts.append(self._receive())
            except ConnectionResetError:
                pass
            body, buffer = b"".join(parts), b""
            headers["connection"] = "close"

        self._pending = buffer
        if headers.get("connection", "").lower() == "close":
            self._close()
        return status, headers, body

    def _read_chunked(self, buffer):
        body = []
        while True:
            end = buffer.find(b"\r\n")
            while end < 0:
                buffer += self._receive()
                end = buffer.find(b"\r\n")
            size = int(buffer[:end].split(b";", 1)[0], 16)
            buffer = buffer[end + 2 :]
            if size == 0:  # skip trailers up to the blank line
                while True:
                    end = buffer.find(b"\r\n")
                    while end < 0:
                        buffer += self._receive()
                        end = buffer.find(b"\r\n")
                    line, buffer = buffer[:end], buffer[end + 2 :]
                    if not line:
                        return b"".join(body), buffer
            while len(buffer) < size + 2:
                buffer += self._receive()
            body.append(buffer[:size])
            buffer = buffer[size + 2 :]


def _quote_id(request_id):
    """Percent-encodes a request id for the URL path (ids are UUIDs, so usually a no-op)."""
    if all(c in _SAFE_ID_CHARS for c in request_id):
        return request_id
    return "".join(
        chr(b) if chr(b) in _SAFE_ID_CHARS else f"%{b:02X}" for b in request_id.encode("utf-8")
    )
