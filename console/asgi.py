"""The ASGI application daphne serves: Django for HTTP, Channels for websockets.

A websocket passes, in order: the Origin must name an allowed host
(channels) and be exactly this console (scheme, host, port), then the session
must be the owner's; only then does routing reach a consumer, which may accept.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Set Django up before anything imports models, consumers or settings-reading code.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from console.routing import websocket_urlpatterns  # noqa: E402
from console.ws_security import SameOriginValidator, SessionRequired  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            SameOriginValidator(SessionMiddlewareStack(SessionRequired(URLRouter(websocket_urlpatterns))))
        ),
    }
)
