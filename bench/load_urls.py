"""URLs of the shop under load (``bench/load_settings.py``): the floor's (``bench/floor.py``),
then the demo shop's, so that ``floor/anonymous/`` is also measured behind the shop's own
middleware, the third floor of ``bench/load.py``. The floor comes first, so it resolves at once
while the app's URLs try its two patterns first: a comparison that favours the floor."""

from bench.floor import urlpatterns as floor_urlpatterns
from demo_shop.urls import urlpatterns as shop_urlpatterns

urlpatterns = [*floor_urlpatterns, *shop_urlpatterns]
