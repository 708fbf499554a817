"""The click redirect the widgets link through: records the click, then sends the shopper on
to the product page. Links are ``r/<recommendation id>/<product id>/`` under the app's URLs."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext as _

from . import feedback
from .capture import is_bot
from .presentation import product_url
from .serving import Shopper


def click_redirect(request: HttpRequest, recommendation_id: str, product_id: str) -> HttpResponseRedirect:
    """Counts the click when the list was shown to this shopper and held the product (once per
    list and product; bots are not counted); always redirects to the product's own URL, never
    to a URL taken from the request."""
    from .api.views import get_product

    product = get_product(product_id)
    url = product_url(product)
    if not url:
        raise Http404(_("This product has no page."))
    if not is_bot(request):
        impression = feedback.get_impression(recommendation_id, Shopper.from_request(request))
        if impression is not None and feedback.in_impression(impression, product.pk):
            feedback.record_click(impression, product.pk)
    return HttpResponseRedirect(url)
