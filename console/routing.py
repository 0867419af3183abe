from django.urls import path

from console.consumers.events import EventsConsumer
from console.consumers.logs import LogsConsumer
from console.consumers.ping import PingConsumer
from console.consumers.pull import PullConsumer
from console.consumers.stats import StatsConsumer
from console.consumers.terminal import TerminalConsumer

websocket_urlpatterns = [
    path("ws/ping", PingConsumer.as_asgi()),
    path("ws/logs", LogsConsumer.as_asgi()),
    path("ws/events", EventsConsumer.as_asgi()),
    path("ws/stats", StatsConsumer.as_asgi()),
    path("ws/terminal", TerminalConsumer.as_asgi()),
    path("ws/pull", PullConsumer.as_asgi()),
]
