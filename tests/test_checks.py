"""System checks say what is wrong and how to fix it."""

import pytest
from django.test import override_settings

from recommendations.checks import check_presentation_settings, check_settings
from recommendations.conf import app_settings


def ids(errors):
    return [e.id for e in errors]


def test_defaults_are_clean():
    assert check_settings() == []


@pytest.mark.parametrize(("setting", "expected_id", "text"), [
    ({"VIEW_DEDUP_SECOND": 60}, "recommendations.E002", "Did you mean 'VIEW_DEDUP_SECONDS'?"),
    ({"PRODUCT_FIELDS": {"colour": "colour"}}, "recommendations.E005", "unknown key 'colour'"),
    ({"PRODUCT_FIELDS": {"brand": "maker"}}, "recommendations.E006", "Product has no field 'maker'"),
    ({"PRODUCT_FIELDS": {"brand": "brand__name"}}, "recommendations.E006", "is not a relation"),
    ({"PRODUCT_FIELDS": {"name": None}}, "recommendations.E007", "cannot be None"),
    ({"VIEW_DEDUP_SECONDS": -5}, "recommendations.E008", "integer >= 0"),
    ({"BOT_USER_AGENT_PATTERN": "(unclosed"}, "recommendations.E009", "not a valid regex"),
    ({"EVENT_WEIGHTS": {"view": -1}}, "recommendations.E010", "EVENT_WEIGHTS"),
    ({"EVENT_WEIGHTS": {"click": 1}}, "recommendations.E010", "EVENT_WEIGHTS"),
    ({"TIME_DECAY_HALF_LIFE_DAYS": 0}, "recommendations.E011", "must be > 0 or None"),
    ({"IMPORT_BATCH_SIZE": 0}, "recommendations.E012", "IMPORT_BATCH_SIZE"),
    ({"KEEP_VERSIONS": 0}, "recommendations.E012", "KEEP_VERSIONS"),
    ({"ENGINES": ["popular", "magic"]}, "recommendations.E013", "'magic'"),
    ({"SERVING_ENGINE": "magic"}, "recommendations.E014", "['magic']"),
    ({"ACTIVATION_TOLERANCE": -1}, "recommendations.E015", "ACTIVATION_TOLERANCE"),
    ({"CACHE_ALIAS": "nope"}, "recommendations.E016", "'nope' is not in CACHES"),
    ({"ARTIFACT_STORAGE": "nope"}, "recommendations.E017", "'nope' is not in STORAGES"),
    ({"RECENT_ACTIVITY_SHARE": 1.0}, "recommendations.E018", "must be a number in [0, 1), got 1.0"),
    ({"IMPRESSION_BUFFER_SECONDS": -1}, "recommendations.E035", "must be a number >= 0, got -1"),
    ({"PRODUCT_CACHE_SIZE": -1}, "recommendations.E035", "must be an integer >= 0, got -1"),
    ({"IMPRESSION_BUFFER_SIZE": 0}, "recommendations.E035", "must be an integer >= 1, got 0"),
    ({"PRODUCT_CACHE_SECONDS": 60}, "recommendations.W037", "set PRODUCT_CACHE_SIZE to 0"),
])
def test_bad_settings_are_reported(setting, expected_id, text):
    with override_settings(RECOMMENDATIONS=setting):
        errors = check_settings() + check_presentation_settings()
    assert ids(errors) == [expected_id]
    assert text in errors[0].msg + " " + (errors[0].hint or "")
    assert errors[0].hint


def test_unknown_product_model_is_reported():
    with override_settings(RECOMMENDATIONS_PRODUCT_MODEL="shop.Missing"):
        errors = check_settings()
    assert "recommendations.E003" in ids(errors)
    assert "shop.Missing" in errors[0].msg


def test_settings_merge_over_defaults_and_reload():
    assert app_settings.EVENT_WEIGHTS["purchase"] == 5.0
    with override_settings(RECOMMENDATIONS={"EVENT_WEIGHTS": {"purchase": 9.0}}):
        assert app_settings.EVENT_WEIGHTS == {"view": 1.0, "cart": 3.0, "purchase": 9.0, "rating": 4.0}
    assert app_settings.EVENT_WEIGHTS["purchase"] == 5.0
    with pytest.raises(AttributeError, match="Invalid RECOMMENDATIONS setting"):
        app_settings.NOT_A_SETTING  # noqa: B018


@pytest.mark.parametrize("backend", ["django.core.cache.backends.locmem.LocMemCache",
                                     "django.core.cache.backends.dummy.DummyCache"])
def test_a_process_local_cache_with_a_real_worker_is_a_deploy_error(settings, backend):
    from django.core.checks import registry

    from recommendations.checks import check_shared_cache

    assert check_shared_cache in registry.registry.get_checks(include_deployment_checks=True)
    assert check_shared_cache not in registry.registry.get_checks()  # a deploy check
    settings.CACHES = {"default": {"BACKEND": backend}}
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    errors = check_shared_cache()
    assert [e.id for e in errors] == ["recommendations.E040"]
    assert "CACHES['default']" in errors[0].msg and "RedisCache" in errors[0].hint
    settings.CELERY_TASK_ALWAYS_EAGER = True  # one process does everything: nothing to share
    assert check_shared_cache() == []
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/9"}}
    assert check_shared_cache() == []
