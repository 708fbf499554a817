"""``recommendations.contrib.oscar``: the app in a django-oscar shop (see docs/oscar.md).

Add ``"recommendations.contrib.oscar"`` to ``INSTALLED_APPS`` (after ``"recommendations"``) and
``"PRODUCT_ADAPTER": "recommendations.contrib.oscar.adapter.OscarProductAdapter"`` to
``RECOMMENDATIONS``: Oscar's own signals are then recorded (product views, basket additions
with their quantity, placed orders line by line, reviews as ratings) and the template snippets
in ``recommendations/oscar/`` render the lists with Oscar's product card.
"""
