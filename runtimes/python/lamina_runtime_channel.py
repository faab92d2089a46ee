"""Lamina's runtime channel: /next, /response and /error as binary frames on one connection.

Inside Lamina's sandbox LAMINA_RUNTIME_SOCKET names the Runtime API's unix socket. One connection
to it is upgraded (GET /lamina/2026-11-01/runtime-channel, `Upgrade: lamina-runtime-channel`),
then each frame is `u32 length | u8 type | u32 meta length | meta JSON | body` (big-endian; the
length counts everything after itself). A warm invoke is one write each way: INVOKE from the
platform; the answer and the NEXT that asks for the following event, together, from here. The
channel has no replies: an answer the platform refuses (too large, say) is reported by the
platform itself. Everything else (the assignment, init errors) stays HTTP on the same socket.
"""
from lamina_json import dumps, loads
from lamina_runtime_api import Invocation

CHANNEL_PATH = "/lamina/2026-11-01/runtime-channel"
_PROTOCOL = "lamina-runtime-channel"
_NEXT, _RESPONSE, _ERROR, _INVOKE = 1, 2, 3, 16
_HEAD = 9
_NEXT_FRAME = b"\x00\x00\x00\x05\x01\x00\x00\x00\x00"
_ACCEPTED = (202, {}, b"")


class ChannelError(OSError):
    """The channel was refused or broke: the runtime cannot go on."""


class RuntimeChannel:
    """The invoke loop's calls over the channel; `http` serves the rest."""

    def __init__(self, sock, pending, http):
        self._sock = sock
        self._pending = pending
        self._http = http
        self._asked = False  # a NEXT already went out with the last answer

    def assignment(self):
        return self._http.assignment()

    def post_init_error(self, payload, error_type):
        return self._http.post_init_error(payload, error_type)

    def next_invocation(self):
        if not self._asked:
            self._sock.sendall(_NEXT_FRAME)
        self._asked = False
        kind, meta, body = self._read_frame()
        if kind != _INVOKE:
            raise ChannelError(f"unexpected runtime channel frame {kind}")
        headers = {
            "lambda-runtime-aws-request-id": meta.get("id", ""),
            "lambda-runtime-deadline-ms": str(meta.get("deadline", 0)),
            "lambda-runtime-invoked-function-arn": meta.get("arn"),
            "lambda-runtime-trace-id": meta.get("trace"),
        }
        # The values /next puts in headers: the UTF-8 of the JSON, one byte per character.
        if meta.get("clientContext"):
            headers["lambda-runtime-client-context"] = meta["clientContext"]
        if meta.get("cognitoIdentity"):
            headers["lambda-runtime-cognito-identity"] = meta["cognitoIdentity"]
        return Invocation(body, headers)

    def post_response(self, request_id, body, content_type):
        meta = {"id": request_id}
        if content_type != "application/json":
            meta["contentType"] = content_type
        self._answer(_RESPONSE, meta, body)
        return _ACCEPTED

    def post_error(self, request_id, payload, error_type, xray_cause=None):
        self._answer(_ERROR, {"id": request_id, "errorType": error_type}, payload)
        return _ACCEPTED

    def _answer(self, kind, meta, body):
        meta_bytes = dumps(meta).encode("utf-8")
        head = (
            (5 + len(meta_bytes) + len(body)).to_bytes(4, "big")
            + bytes((kind,))
            + len(meta_bytes).to_bytes(4, "big")
        )
        # The answer and the NEXT that follows it leave in one write.
        self._sock.sendall(b"".join((head, meta_bytes, body, _NEXT_FRAME)))
        self._asked = True

    def _read_frame(self):
        parts = [self._pending]
        have = len(self._pending)
        while have < _HEAD:
            have += self._receive(parts)
        first = parts[0] if len(parts) == 1 else b"".join(parts)
        size = 4 + int.from_bytes(first[0:4], "big")
        parts = [first]
        while have < size:
            have += self._receive(parts)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        kind = data[4]
        meta_end = _HEAD + int.from_bytes(data[5:9], "big")
        if meta_end > size:
            raise ChannelError("malformed runtime channel frame")
        meta = loads(data[_HEAD:meta_end])
        body = data[meta_end:size]
        self._pending = data[size:]
        return kind, meta, body

    def _receive(self, parts):
        chunk = self._sock.recv(262144)
        if not chunk:
            raise ChannelError("the runtime channel closed")
        parts.append(chunk)
        return len(chunk)


def upgrade(sock, preamble):
    """Upgrades a fresh connection to the channel; returns the bytes that came after the 101."""
    sock.sendall(
        (
            f"GET {CHANNEL_PATH} HTTP/1.1\r\n{preamble}"
            f"Connection: Upgrade\r\nUpgrade: {_PROTOCOL}\r\n\r\n"
        ).encode("latin-1")
    )
    buffer = b""
    end = -1
    while end < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ChannelError("the Runtime API closed the connection before the upgrade")
        buffer += chunk
        end = buffer.find(b"\r\n\r\n")
    status = buffer[:end].split(b"\r\n", 1)[0].split(b" ", 2)
    if len(status) < 2 or status[1] != b"101":
        raise ChannelError(f"the runtime channel was refused: {buffer[:end].decode('latin-1')}")
    return buffer[end + 4 :]
