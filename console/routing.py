from django.urls import path

from console.consumers.ping import PingConsumer

websocket_urlpatterns = [
    path("ws/ping", PingConsumer.as_asgi()),
]
