"""Forms of the demo shop's cart, rating and (simulated) payment."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=99, initial=1)


class CartLineForm(forms.Form):
    """A cart line's new quantity; 0 removes the line."""

    quantity = forms.IntegerField(min_value=0, max_value=99)


def star_choices() -> list[tuple[int, str]]:
    """"5 stars" down to "1 star", in the language of the request (a callable: read per form)."""
    return [(n, ngettext("%(n)d star", "%(n)d stars", n) % {"n": n}) for n in range(5, 0, -1)]


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(choices=star_choices,
                                   coerce=int, widget=forms.RadioSelect, label=_("Your rating"))


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


class CheckoutForm(forms.Form):
    """Nothing is charged: any number that passes the Luhn check (e.g. 4242 4242 4242 4242) pays."""

    full_name = forms.CharField(max_length=200, label=_("Full name"), widget=forms.TextInput(
        attrs={"autocomplete": "name"}))
    address = forms.CharField(max_length=500, label=_("Delivery address"), widget=forms.Textarea(
        attrs={"rows": 3, "autocomplete": "street-address"}))
    card_number = forms.CharField(max_length=23, label=_("Card number"), help_text=_("Try 4242 4242 4242 4242."),
                                  widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}))
    expiry = forms.RegexField(regex=r"^(0[1-9]|1[0-2])/\d{2}$", label=_("Expiry (MM/YY)"),
                              error_messages={"invalid": _("Use MM/YY, e.g. 12/29.")},
                              widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "MM/YY"}))
    cvc = forms.RegexField(regex=r"^\d{3,4}$", label=_("CVC"), error_messages={"invalid": _("3 or 4 digits.")},
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}))

    def clean_card_number(self) -> str:
        number = "".join(self.cleaned_data["card_number"].split()).replace("-", "")
        if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
            raise forms.ValidationError(
                _("This card number is not valid (the payment is simulated: try 4242 4242 4242 4242)."))
        return number
