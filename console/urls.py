from django.urls import path, re_path

from console.views import home, login, static

urlpatterns = [
    path("", home.home, name="home"),
    path("login", login.login, name="login"),
    path("logout", login.logout, name="logout"),
    re_path(r"^static/(?P<path>.+)$", static.static_file, name="static"),
]

handler400 = "console.views.errors.bad_request"
handler403 = "console.views.errors.permission_denied"
handler404 = "console.views.errors.page_not_found"
handler500 = "console.views.errors.server_error"
