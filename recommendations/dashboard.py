"""The training side of the admin: the model-version list with its actions, the metrics
dashboard, the retrain buttons and the progress endpoint the dashboard polls.

URLs (under the admin site, staff only; names in the ``admin`` namespace):

* ``recommendations/modelversion/dashboard/`` (``recommendations_dashboard``): per engine the
  active version, its metrics, data size, last training and charts; needs view permission.
* ``recommendations/modelversion/retrain/`` (``recommendations_retrain``): POST ``engine``
  (a name, or ``__all__``); needs change permission.
* ``recommendations/modelversion/status/`` (``recommendations_training_status``): JSON.

Retraining only queues (``training.queue``) and returns at once. An engine that already has a
run queued or running is not queued again; the message says so. (The cache lock in
``training.train`` still guards against two clicks that race past this check: the second run
then ends ``failed`` with "already running".)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from . import attribution, charts, training
from .conf import ENGINE_NAMES, app_settings
from .models import ModelVersion

Status = ModelVersion.Status
ALL = "__all__"
HISTORY_METRICS = ("ndcg@10", "precision@10", "recall@10")
COMPARISON_METRICS = ("ndcg@10", "precision@10", "recall@10", "coverage@10")
#: Beyond accuracy (``evaluation.BeyondAccuracy``), all in [0, 1]; novelty (bits) has its own chart.
BEYOND_METRICS = ("ild_category@10", "ild_content@10", "popularity_bias@10", "exposure_gini@10")
NOVELTY = "novelty@10"
HISTORY_LENGTH = 20


PERIODS = (7, 30, 90)


def _shop_results(request: HttpRequest) -> dict[str, Any]:
    """The owner's section: what recommendations did over the chosen period (``?days=``)."""
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    return {"days": days, "periods": PERIODS, "results": attribution.shop_results(days=days)}


def busy_version(engine: str) -> ModelVersion | None:
    """The engine's run that is running, or queued recently enough that a worker may still pick
    it up (a queued run older than the lock's lifetime is taken as lost)."""
    recent = timezone.now() - timedelta(seconds=app_settings.TRAINING_LOCK_SECONDS)
    return (ModelVersion.objects.filter(engine=engine)
            .filter(Q(status=Status.RUNNING) | Q(status=Status.QUEUED, created_at__gte=recent))
            .order_by("-created_at", "-id").first())


def start_trainings(request: HttpRequest, engines: list[str], *, force: bool = False) -> list[ModelVersion]:
    """Queue a training of each engine, telling the user what happened through messages."""
    training.fail_stale_runs()
    queued = []
    who = request.user.get_username() if request.user.is_authenticated else ""
    for engine in engines:
        busy = busy_version(engine)
        if busy is not None:
            messages.warning(request, f"{engine}: v{busy.pk} is already {busy.status}"
                                      f"{f' ({busy.stage}, {busy.progress}%)' if busy.stage else ''}; "
                                      "no second training was started.")
            continue
        try:
            version = training.queue(engine, triggered_by=f"admin:{who}", force=force)
        except training.TrainingFailed as exc:  # eager Celery: it ran in this request, and failed
            messages.error(request, f"{engine}: the training failed ({exc}); the active model keeps serving.")
            continue
        except training.NoBrokerConfigured as exc:
            messages.error(request, str(exc))
            break
        except Exception as exc:  # noqa: BLE001  (broker down, misconfigured, ...)
            messages.error(request, f"Could not reach the task broker, so no training was started "
                                    f"({type(exc).__name__}: {exc}). Check CELERY_BROKER_URL and that "
                                    "the broker is running; the active models keep serving.")
            break
        queued.append(version)
        messages.success(request, f"{engine}: training queued as v{version.pk}; its progress shows "
                                  "on the dashboard.")
    return queued


def _fmt_count(n: int | None) -> str:
    return f"{n:,}" if n is not None else "–"


def _status_row(version: ModelVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"id": version.pk, "engine": version.engine, "status": version.status,
            "stage": version.stage, "progress": version.progress,
            "error": (version.error or "").splitlines()[0][:300] if version.error else "",
            "is_active": version.is_active,
            "finished_at": version.finished_at.isoformat() if version.finished_at else None}


class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "engine", "status", "stage_progress", "ndcg_display", "data_size",
                    "is_active", "triggered_by", "created_at"]
    list_display_links = ["__str__"]
    list_filter = ["engine", "status", "is_active"]
    search_fields = ["=engine", "triggered_by", "=task_id"]
    actions = ["retrain_selected", "force_activate"]
    change_list_template = "admin/recommendations/modelversion/change_list.html"
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    date_hierarchy = "created_at"

    # -- list ---------------------------------------------------------------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from trainings

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # every field is read-only: no save buttons (change permission is what the actions need)
        extra_context = {**(extra_context or {}), "show_save": False,
                         "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="stage")
    def stage_progress(self, obj: ModelVersion) -> str:
        if obj.status in (Status.QUEUED, Status.RUNNING):
            return f"{obj.stage or 'waiting'} ({obj.progress}%)"
        return obj.stage or ""

    @admin.display(description="ndcg@10")
    def ndcg_display(self, obj: ModelVersion) -> str:
        value = obj.ndcg
        return f"{value:.4f}" if isinstance(value, (int, float)) else "–"

    @admin.display(description="data")
    def data_size(self, obj: ModelVersion) -> str:
        if not obj.n_events:
            return "–"
        return f"{_fmt_count(obj.n_users)} users · {_fmt_count(obj.n_products)} products · " \
               f"{_fmt_count(obj.n_events)} events"

    # -- actions ------------------------------------------------------------------------------
    @admin.action(description="Retrain the engines of the selected versions", permissions=["change"])
    def retrain_selected(self, request: HttpRequest, queryset) -> None:
        engines = sorted(set(queryset.values_list("engine", flat=True)), key=_engine_order)
        start_trainings(request, engines)

    @admin.action(description="Force-activate the selected version (skip the ndcg check)",
                  permissions=["change"])
    def force_activate(self, request: HttpRequest, queryset) -> None:
        chosen = list(queryset)
        engines = [v.engine for v in chosen]
        if len(engines) != len(set(engines)):
            self.message_user(request, "Select at most one version per engine to activate.",
                              messages.ERROR)
            return
        for version in chosen:
            if version.status != Status.SUCCEEDED or not version.artifact:
                self.message_user(request, f"{version}: only a succeeded version with an artifact "
                                           "can be activated.", messages.ERROR)
                continue
            training.activate(version, force=True)
            self.message_user(request, f"{version.engine}: v{version.pk} is now active.",
                              messages.SUCCESS)

    # -- extra views --------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        extra = [
            path("dashboard/", wrap(self.dashboard_view), name="recommendations_dashboard"),
            path("retrain/", wrap(self.retrain_view), name="recommendations_retrain"),
            path("status/", wrap(self.status_view), name="recommendations_training_status"),
        ]
        return extra + super().get_urls()

    def retrain_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        engine = request.POST.get("engine", "")
        if engine == ALL:
            engines = training.configured_engines()
        elif engine in ENGINE_NAMES:
            engines = [engine]
        else:
            messages.error(request, f"Unknown engine {engine!r}.")
            engines = []
        if engines:
            start_trainings(request, engines, force=request.POST.get("force") == "1")
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:recommendations_dashboard"))

    def status_view(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        training.fail_stale_runs()
        latest: dict[str, ModelVersion] = {}
        for version in ModelVersion.objects.order_by("-created_at", "-id")[:200]:
            latest.setdefault(version.engine, version)
        active = dict(ModelVersion.objects.filter(is_active=True).values_list("engine", "pk"))
        engines = {engine: {"active": active.get(engine), "latest": _status_row(version)}
                   for engine, version in latest.items()}
        busy = any(v.status in (Status.QUEUED, Status.RUNNING) for v in latest.values())
        return JsonResponse({"busy": busy, "engines": engines, "now": timezone.now().isoformat()},
                            headers={"Cache-Control": "no-store"})

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        training.fail_stale_runs()
        versions = list(ModelVersion.objects.order_by("-created_at", "-id")[:1000])
        configured = training.configured_engines()
        names = sorted({*configured, *(v.engine for v in versions)}, key=_engine_order)
        rows = []
        for engine in names:
            mine = [v for v in versions if v.engine == engine]
            active = next((v for v in mine if v.is_active), None)
            finished = [v for v in mine if v.status == Status.SUCCEEDED]
            history = list(reversed([v for v in finished if v.metrics][:HISTORY_LENGTH]))
            rows.append({
                "engine": engine,
                "configured": engine in configured,
                "active": active,
                "latest": mine[0] if mine else None,
                "metrics": _metric_rows(active.metrics if active else {}),
                "data_size": self.data_size(active) if active else "–",
                "last_trained": finished[0].finished_at if finished else None,
                "chart": charts.line_chart(
                    f"{engine}: validation metrics by version",
                    [f"v{v.pk}" for v in history],
                    {m: [_number(v.metrics.get(m)) for v in history] for m in HISTORY_METRICS},
                    empty="No succeeded version with metrics yet."),
                "beyond_chart": _beyond_history(engine, history),
            })
        compared = [r for r in rows if r["active"] is not None and r["active"].metrics]
        comparison = charts.bar_chart(
            "Active version of each engine: validation metrics",
            [r["engine"] for r in compared],
            {m: [_number(r["active"].metrics.get(m)) for r in compared] for m in COMPARISON_METRICS})
        beyond = [r for r in compared if any(_number(r["active"].metrics.get(m)) is not None
                                             for m in (*BEYOND_METRICS, NOVELTY))]
        beyond_comparison = charts.bar_chart(
            "Active version of each engine: beyond accuracy (diversity, popularity bias, exposure)",
            [r["engine"] for r in beyond],
            {m: [_number(r["active"].metrics.get(m)) for r in beyond] for m in BEYOND_METRICS},
            empty="No active version with beyond-accuracy metrics yet.")
        novelty_comparison = charts.bar_chart(
            "Active version of each engine: novelty@10 (mean self-information, bits)",
            [r["engine"] for r in beyond], {NOVELTY: [_number(r["active"].metrics.get(NOVELTY)) for r in beyond]},
            width=420, empty="No active version with beyond-accuracy metrics yet.")
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": "Recommendation models",
            "opts": opts,
            "app_label": opts.app_label,
            "rows": rows,
            "shop": _shop_results(request),
            "comparison": comparison,
            "beyond_comparison": beyond_comparison,
            "novelty_comparison": novelty_comparison,
            "can_retrain": self.has_change_permission(request),
            "all_value": ALL,
            "status_url": reverse(f"{self.admin_site.name}:recommendations_training_status"),
            "retrain_url": reverse(f"{self.admin_site.name}:recommendations_retrain"),
            "changelist_url": reverse(f"{self.admin_site.name}:recommendations_modelversion_changelist"),
            "profiles_url": reverse(f"{self.admin_site.name}:recommendations_shopperprofile_changelist"),
            "busy": any(r["latest"] is not None and r["latest"].status in (Status.QUEUED, Status.RUNNING)
                        for r in rows),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/recommendations/dashboard.html", context)


def _engine_order(name: str) -> tuple[int, str]:
    return (ENGINE_NAMES.index(name) if name in ENGINE_NAMES else len(ENGINE_NAMES), name)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _beyond_history(engine: str, history: list[ModelVersion]) -> SafeString | None:
    """Beyond-accuracy metrics across versions; None (no chart) until a version has them
    (versions trained before they existed have none)."""
    if not any(_number(v.metrics.get(m)) is not None for v in history for m in BEYOND_METRICS):
        return None
    return charts.line_chart(f"{engine}: beyond accuracy by version", [f"v{v.pk}" for v in history],
                             {m: [_number(v.metrics.get(m)) for v in history] for m in BEYOND_METRICS},
                             width=640)  # room for the four longer legend names


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """Accuracy first, then beyond accuracy, then the rest; "–" where the data could not say
    (e.g. ild_category@10 without product categories)."""
    shown = []
    for key in sorted(metrics, key=lambda k: (k not in COMPARISON_METRICS,
                                              k not in (*BEYOND_METRICS, NOVELTY), k)):
        value = metrics[key]
        shown.append((key, "–" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)))
    return shown
