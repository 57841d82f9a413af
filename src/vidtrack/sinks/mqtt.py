"""``--mqtt mqtt://[user:pass@]HOST[:PORT]/TOPIC``: publish each event as JSON with paho-mqtt, off the pipeline's path.

QoS 1 (the broker acknowledges each message). ``mqtts://`` connects with TLS (port 8883
by default). The password never appears in messages or the summary (credentials are
masked). Delivery (queue, retries, drop counts) is :mod:`vidtrack.sinks.delivery`'s: a
message counts as sent once the broker acknowledged it; after a failure the connection
is dropped and a fresh one made on the next try, so a message is not sent twice by
paho's own resend queue. The messages of a batch are published together and their
acknowledgements awaited together (paho keeps up to :data:`IN_FLIGHT` unacknowledged). paho-mqtt is an optional dependency: ``pip install 'vidtrack[notify]'``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import unquote, urlsplit

from vidtrack.errors import OptionError, mask_credentials
from vidtrack.sinks.delivery import Delivery
from vidtrack.sinks.notify import NotifySink

if TYPE_CHECKING:
    from vidtrack.frames import Event

#: Seconds to connect, and to wait for the broker's acknowledgement of one message.
TIMEOUT_S = 5.0
#: Messages paho may have sent without the broker's acknowledgement yet.
IN_FLIGHT = 100


@dataclass(frozen=True)
class MqttTarget:
    """A parsed ``--mqtt`` URL."""

    host: str
    port: int
    topic: str
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> "MqttTarget":
        """``mqtt://[user:pass@]host[:port]/topic/with/levels`` → target.

        Raises:
            OptionError: another scheme, no host, no topic, a bad port or a wildcard topic.
        """
        shown = mask_credentials(url)
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise OptionError(f"--mqtt {shown!r} is not an mqtt:// URL", "use mqtt://[user:pass@]HOST:PORT/TOPIC")
        try:
            port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        except ValueError:
            raise OptionError(f"--mqtt {shown!r} has a bad port", "use a number 1-65535, e.g. mqtt://HOST:1883/TOPIC") from None
        topic = unquote(parts.path.lstrip("/"))
        if not topic or "+" in topic or "#" in url:  # '#' starts a URL fragment: look in the whole URL
            raise OptionError(f"--mqtt {shown!r} names no topic to publish to", "add one without wildcards: mqtt://HOST:1883/vidtrack/events")
        return cls(
            parts.hostname, port, topic, unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None, parts.scheme == "mqtts",
        )

    @property
    def label(self) -> str:
        """The target as shown to people: no password."""
        user = f"{self.username}:***@" if self.password else (f"{self.username}@" if self.username else "")
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}/{self.topic}"


def check_paho() -> None:
    """Raise a one-line OptionError when paho-mqtt is not installed."""
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError:
        raise OptionError("--mqtt needs the paho-mqtt package", "pip install 'vidtrack[notify]' (or paho-mqtt)") from None


class _Connection:
    """One paho client at a time, made on demand and thrown away after a failure."""

    def __init__(self, target: MqttTarget) -> None:
        self.target = target
        self.client: Any = None

    def _connect(self) -> Any:
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        if self.target.username:
            client.username_pw_set(self.target.username, self.target.password)
        if self.target.tls:
            client.tls_set()
        client.connect_timeout = TIMEOUT_S
        client.max_inflight_messages_set(IN_FLIGHT)
        client.connect(self.target.host, self.target.port, keepalive=30)
        client.loop_start()
        deadline = time.monotonic() + TIMEOUT_S
        while not client.is_connected():  # CONNACK: until then paho would only queue messages
            if time.monotonic() > deadline:
                client.loop_stop()
                raise TimeoutError("the broker accepted the connection but never acknowledged it")
            time.sleep(0.01)
        return client

    def send_many(self, payloads: list[bytes]) -> tuple[list[bool], str | None]:
        """Publish ``payloads`` at QoS 1 (all handed to paho, then their acknowledgements awaited
        together); which the broker acknowledged, and the first error (see :data:`~vidtrack.sinks.delivery.SendMany`)."""
        import paho.mqtt.client as mqtt

        done = [False] * len(payloads)
        infos: list[Any] = []
        try:
            if self.client is None or not self.client.is_connected():
                self.close()
                self.client = self._connect()
            for payload in payloads:
                info = self.client.publish(self.target.topic, payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    raise ConnectionError(f"publish refused ({mqtt.error_string(info.rc)})")
                infos.append(info)
            deadline = time.monotonic() + TIMEOUT_S + 0.05 * len(payloads)
            for i, info in enumerate(infos):
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
                done[i] = info.is_published()
            if not all(done):
                raise TimeoutError("no acknowledgement from the broker")
            return done, None
        except Exception as exc:
            for i, info in enumerate(infos):
                done[i] = done[i] or info.is_published()
            self.close()  # paho would resend the unacknowledged messages itself after a reconnect: start afresh
            return done, f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.disconnect()
            finally:
                client.loop_stop()


class MqttSink(NotifySink):
    """Publishes every event of its source to the ``--mqtt`` topic (see the module docstring)."""

    kind = "mqtt"

    def __init__(self, url: str, final_events: "Callable[[], Iterable[Event]] | None" = None, **delivery: float) -> None:
        check_paho()
        target = MqttTarget.parse(url)
        connection = _Connection(target)
        delivery_ = Delivery(connection.send_many, target.label, on_close=connection.close, batched=True, **delivery)  # type: ignore[arg-type]
        super().__init__(delivery_, final_events)
