"""The `context` object handed to Python handlers, with the attributes and types Lambda's has.

Why these shapes: functions (and libraries such as Powertools) read `context.identity.*`,
`context.client_context.client.*` and `memory_limit_in_mb` (a string on Lambda) directly.
"""
import os
import sys
import time

# Keys of the client context's `w3c` member that Lambda surfaces through context.w3c().
_W3C_FIELDS = ("traceparent", "tracestate", "baggage")


class CognitoIdentity:
    """`context.identity`: always present; both ids are None unless the caller was Cognito."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id=None, pool_id=None):
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id

    def __repr__(self):
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """`context.client_context.client`: the mobile app that invoked the function."""

    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )

    def __init__(self, fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self):
        inner = ",".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"Client([{inner}])"


class ClientContext:
    """`context.client_context`: None unless the Invoke carried X-Amz-Client-Context."""

    __slots__ = ("custom", "env", "client")

    def __init__(self, fields):
        self.custom = fields.get("custom")
        self.env = fields.get("env")
        client = fields.get("client")
        self.client = Client(client) if isinstance(client, dict) else client

    def __repr__(self):
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


class LambdaContext:
    """Per-invocation facts: ids, ARN, limits and the deadline (epoch milliseconds)."""

    def __init__(
        self,
        request_id,
        deadline_ms,
        invoked_function_arn,
        client_context=None,
        cognito_identity=None,
        tenant_id=None,
    ):
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self._deadline_ms = deadline_ms
        self._w3c = _take_w3c(client_context)
        self.client_context = (
            ClientContext(client_context) if isinstance(client_context, dict) else None
        )
        identity = cognito_identity if isinstance(cognito_identity, dict) else {}
        self.identity = CognitoIdentity(
            identity.get("cognitoIdentityId"), identity.get("cognitoIdentityPoolId")
        )

    def get_remaining_time_in_millis(self):
        """Milliseconds left before the platform times the invocation out (never negative)."""
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def w3c(self):
        """The W3C trace context (traceparent, tracestate, baggage) the caller passed, if any."""
        return dict(self._w3c)

    def log(self, message):
        """Writes a message to the function's log as is (Lambda's context.log)."""
        sys.stdout.write(str(message))

    def __repr__(self):
        return (
            "LambdaContext(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


def _take_w3c(client_context):
    """Removes `w3c` from the client context (Lambda hides it there) and keeps its string fields."""
    if not isinstance(client_context, dict):
        return {}
    raw = client_context.pop("w3c", None)
    if not isinstance(raw, dict):
        return {}
    return {key: raw[key] for key in _W3C_FIELDS if isinstance(raw.get(key), str)}
