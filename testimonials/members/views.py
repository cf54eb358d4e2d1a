"""The link an invited person opens: sign in or set a password, then accept."""

from __future__ import annotations

from django import forms
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from testimonials.errors import ApplicationError
from testimonials.members.services import member_account_create, member_invitation_accept, member_invitation_read


class NewAccountForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, label="Choose a password")
    again = forms.CharField(widget=forms.PasswordInput, label="The same password again")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") != cleaned.get("again"):
            self.add_error("again", "The two passwords differ.")
        return cleaned


@never_cache
@require_http_methods(["GET", "POST"])
def member_join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = member_invitation_read(token)
    except ApplicationError as error:
        return render(request, "members/join.html", {"problem": error.message}, status=410)
    context = {"invitation": invitation, "login_url": f"{reverse('admin:login')}?next={request.path}"}
    account = NewAccountForm(request.POST if request.POST.get("action") == "create" else None)
    context["account"] = account
    if request.method == "POST":
        try:
            if request.POST.get("action") == "accept" and request.user.is_authenticated:
                member_invitation_accept(token=token, user=request.user)
                return HttpResponseRedirect(reverse("admin:index"))
            if request.POST.get("action") == "create" and not request.user.is_authenticated and account.is_valid():
                user = member_account_create(token=token, password=account.cleaned_data["password"])
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return HttpResponseRedirect(reverse("admin:index"))
        except ApplicationError as error:
            context["problem"] = error.message
            return render(request, "members/join.html", context, status=400)
    return render(request, "members/join.html", context, status=400 if account.errors else 200)
