"""URLs of the shop under load (``bench/load_settings.py``): the demo shop's, then the floor's
(``bench/floor.py``), so that ``floor/anonymous/`` is also measured behind the shop's own
middleware, the third floor of ``bench/load.py``. The floor comes last: the app's URLs resolve
as in the demo shop."""

from bench.floor import urlpatterns as floor_urlpatterns
from demo_shop.urls import urlpatterns as shop_urlpatterns

urlpatterns = [*shop_urlpatterns, *floor_urlpatterns]
