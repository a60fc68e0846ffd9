"""Sign-up, sign-in and sign-out. Sign-up attempts are throttled per client address; wrong
passwords lock an account or an address out (django-axes, huiliu/lockout.py)."""

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.forms import SigninForm, SignupForm, apply_errors
from frontend.views.common import landing_url, safe_next
from huiliu.throttle import ThrottleScope, client_ip, throttle
from partners import services


def signup(request):
    if request.user.is_authenticated:
        return redirect("frontend:dashboard")
    if request.method == "POST":
        throttle(ThrottleScope.SIGNUP, client_ip(request))  # over the limit: the 429 page
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Huiliu! Your account is ready."))
            return redirect(safe_next(request, reverse("frontend:dashboard")))
    return render(request, "frontend/accounts/signup.html", {"form": form})


def signin(request):
    if request.user.is_authenticated:
        return redirect(safe_next(request, landing_url(request.user)))
    form = SigninForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["email"].strip().lower(), password=form.cleaned_data["password"]
        )
        if user is None:
            form.add_error(None, _("The e-mail or password is incorrect."))
        else:
            login(request, user)
            return redirect(safe_next(request, landing_url(user)))
    return render(request, "frontend/accounts/signin.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def signout(request):
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("frontend:home")
