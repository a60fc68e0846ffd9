from django.http import HttpResponse
from django.urls import path

app_name = "frontend"


def _placeholder(request):
    return HttpResponse("Huiliu")


urlpatterns = [
    path("", _placeholder, name="home"),
    path("login/", _placeholder, name="login"),
    path("dashboard/", _placeholder, name="dashboard"),
]
