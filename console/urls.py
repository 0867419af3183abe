from django.urls import path, re_path

from console.views import container_detail, containers, events, home, image_browser, images, login, networks, pods, static, volumes

# Names and ids go in URLs as typed: containers, pods, volumes and networks have
# names without "/", images may have "/", ":" and "@" (`localhost/app:1.0`), so
# their routes take the rest of the path and end in a fixed word. An image's
# own page ends in "/"; the image browser (`images/<id>/browse/`) must be listed
# before it.
IMAGE = r"(?P<ref>[^?#]+?)"

urlpatterns = [
    path("", home.home, name="home"),
    path("login", login.login, name="login"),
    path("logout", login.logout, name="logout"),
    re_path(r"^static/(?P<path>.+)$", static.static_file, name="static"),
    # containers
    path("containers/", containers.container_list, name="containers"),
    path("containers/bulk", containers.bulk, name="containers_bulk"),
    path("containers/new", containers.create, name="container_create"),
    path("containers/<str:ref>/", container_detail.detail, name="container"),
    path("containers/<str:ref>/recreate", container_detail.recreate, name="container_recreate"),
    path("containers/<str:ref>/<str:verb>", container_detail.action, name="container_action"),
    # pods
    path("pods/", pods.pod_list, name="pods"),
    path("pods/new", pods.create, name="pod_create"),
    path("pods/<str:ref>/<str:verb>", pods.action, name="pod_action"),
    # images
    path("images/", images.image_list, name="images"),
    path("images/pull", images.pull, name="image_pull"),
    path("images/prune", images.prune, name="image_prune"),
    re_path(rf"^images/{IMAGE}/(?P<verb>tag|untag|push|remove)$", images.action, name="image_action"),
    re_path(rf"^images/{IMAGE}/browse/$", image_browser.browse, name="image_browse"),
    re_path(rf"^images/(?!.*/browse/$){IMAGE}/$", images.detail, name="image"),
    # volumes
    path("volumes/", volumes.volume_list, name="volumes"),
    path("volumes/new", volumes.create, name="volume_create"),
    path("volumes/prune", volumes.prune, name="volume_prune"),
    path("volumes/<str:name>/remove", volumes.remove, name="volume_remove"),
    path("volumes/<str:name>/browse/", volumes.browse, name="volume_browse"),
    # networks
    path("networks/", networks.network_list, name="networks"),
    path("networks/new", networks.create, name="network_create"),
    path("networks/<str:ref>/", networks.detail, name="network"),
    path("networks/<str:ref>/remove", networks.remove, name="network_remove"),
    # events
    path("events/", events.events, name="events"),
]

handler400 = "console.views.errors.bad_request"
handler403 = "console.views.errors.permission_denied"
handler404 = "console.views.errors.page_not_found"
handler500 = "console.views.errors.server_error"
