"""The training side of the admin: the model-version list with its actions, the metrics
dashboard, the retrain buttons and the progress endpoint the dashboard polls.

URLs (under the admin site, staff only; names in the ``admin`` namespace):

* ``recommendations/modelversion/dashboard/`` (``recommendations_dashboard``): per engine the
  active version, its metrics, data size, last training and charts; needs view permission.
* ``recommendations/modelversion/retrain/`` (``recommendations_retrain``): POST ``engine``
  (a name, or ``__all__``); needs change permission.
* ``recommendations/modelversion/status/`` (``recommendations_training_status``): JSON.

Retraining only queues (``tasks.queue``) and returns at once. An engine that already has a
run queued or running is not queued again; the message says so. (The cache lock in
``training.train`` still guards against two clicks that race past this check: the second run
then ends ``failed`` with "already running".)
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from . import attribution, charts, serving, tasks, training
from .algorithms import NEEDS_TENSORFLOW
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


def start_trainings(request: HttpRequest, engines: list[str], *, force: bool = False) -> list[ModelVersion]:
    """Queue a training of each engine, telling the user what happened through messages. With a
    worker this answers at once (the dashboard then follows the runs); where tasks run eagerly
    (tests) the training already ran, and the message says how it ended."""
    training.fail_stale_runs()
    queued = []
    who = request.user.get_username() if request.user.is_authenticated else ""
    for engine in engines:
        busy = training.busy_version(engine)
        if busy is not None:
            messages.warning(request, _("%(engine)s: v%(id)s is already %(status)s%(where)s; no second "
                                        "training was started.") % {
                "engine": engine, "id": busy.pk, "status": busy.get_status_display(),
                "where": f" ({stage_label(busy.stage)}, {busy.progress}%)" if busy.stage else ""})
            continue
        try:
            version = tasks.queue(engine, triggered_by=f"admin:{who}", force=force)
        except training.TrainingFailed:  # eager Celery: it ran in this request, and failed
            version = ModelVersion.objects.filter(engine=engine).order_by("-created_at", "-id").first()
            messages.error(request, outcome_html(version))
            continue
        except training.NoBrokerConfigured as exc:
            messages.error(request, str(exc))
            break
        except Exception as exc:  # noqa: BLE001  (broker down, misconfigured, ...)
            messages.error(request, _("Could not reach the task broker, so no training was started "
                                      "(%(error)s). Check CELERY_BROKER_URL and that the broker is "
                                      "running; the active models keep serving.")
                           % {"error": f"{type(exc).__name__}: {exc}"})
            break
        queued.append(version)
        if version.status in (Status.QUEUED, Status.RUNNING):
            messages.success(request, outcome_html(version, suffix=_("; its progress shows below.")))
        else:
            level = messages.SUCCESS if version.status == Status.SUCCEEDED else messages.ERROR
            messages.add_message(request, level, outcome_html(version))
    return queued


# -- plain-words reports of training runs ---------------------------------------------------------
#: Where each stage starts (its progress %) and where the next one starts.
STAGE_SPANS = {"loading data": (5, 20), "validating": (20, 55), "fitting": (55, 85), "saving": (85, 100)}
#: The stages as staff read them (the model stores the English key).
STAGE_LABELS = {
    "loading data": pgettext_lazy("training stage", "loading data"),
    "validating": pgettext_lazy("training stage", "validating"),
    "fitting": pgettext_lazy("training stage", "fitting"),
    "saving": pgettext_lazy("training stage", "saving"),
    "worker lost": pgettext_lazy("training stage", "worker lost"),
    "waiting": pgettext_lazy("training stage", "waiting"),
}
_KEPT_NOTE = re.compile(r"kept v(?P<live>\d+): ndcg@10 (?P<new>[\d.]+) < (?P<old>[\d.]+) of the live version "
                        r"\(tolerance (?P<tolerance>[\d.eE+-]+)\)")


def stage_label(stage: str) -> str:
    """A stored stage key in the active language (unknown keys as stored)."""
    return str(STAGE_LABELS.get(stage, stage))


def status_label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return status


def activation_note(version: ModelVersion) -> str:
    """The stored activation note (English, written by ``training.activate``) in the active language."""
    note = version.activation_note
    if note == "activated":
        return pgettext("model version", "activated")
    if note == "forced by staff":
        return _("forced by staff")
    if kept := _KEPT_NOTE.fullmatch(note):
        return _("kept v%(live)s: ndcg@10 %(new)s < %(old)s of the live version (tolerance %(tolerance)s)") % {
            "live": kept["live"], "new": number_format(float(kept["new"]), 3),
            "old": number_format(float(kept["old"]), 3), "tolerance": kept["tolerance"]}
    return note


def duration(seconds: float | None) -> str:
    """"34 s", "2 min 10 s", "1 h 5 min"."""
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": rest} if rest else _("%(m)d min") % {"m": minutes}
    hours, rest = divmod(seconds // 60, 60)
    return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}


def last_durations() -> dict[str, float]:
    """Each engine's latest succeeded run's total time: the estimate for its next run."""
    found: dict[str, float] = {}
    for engine, seconds in (ModelVersion.objects.filter(status=Status.SUCCEEDED, total_seconds__isnull=False)
                            .order_by("-finished_at", "-id").values_list("engine", "total_seconds")[:500]):
        found.setdefault(engine, seconds)
    return found


def run_report(version: ModelVersion, estimate: float | None = None, now=None) -> dict[str, Any]:
    """What the dashboard shows of a run: status, stage, a percentage that advances between
    stages with the time the last run took, elapsed time, estimate, and one sentence."""
    now = now or timezone.now()
    live = version.status in (Status.QUEUED, Status.RUNNING)
    elapsed = None
    if version.started_at:
        elapsed = ((now if live else version.finished_at or now) - version.started_at).total_seconds()
    percent = version.progress
    if version.status == Status.RUNNING and estimate and elapsed is not None:
        _start, end = STAGE_SPANS.get(version.stage, (percent, percent))
        percent = max(percent, min(end - 1, round(100 * elapsed / estimate)))
    if version.status == Status.SUCCEEDED:
        percent = 100
    return {"id": version.pk, "engine": version.engine, "status": version.status, "stage": version.stage,
            "status_label": status_label(version.status), "stage_label": stage_label(version.stage),
            "elapsed_text": _("%(s)d s") % {"s": round(elapsed)} if elapsed is not None else "",
            "estimate_text": _("%(s)d s") % {"s": round(estimate)} if estimate else "",
            "progress": version.progress, "percent": percent,
            "error": error_line(version), "is_active": version.is_active,
            "finished_at": version.finished_at.isoformat() if version.finished_at else None,
            "elapsed_s": round(elapsed) if elapsed is not None else None,
            "estimate_s": round(estimate) if estimate else None,
            "message": outcome_text(version, estimate, elapsed=elapsed, percent=percent, now=now)}


def error_line(version: ModelVersion) -> str:
    """The error's one line (``Type: message``), as the card shows it; the version's page has all."""
    return (version.error or "").strip().splitlines()[0][:300] if version.error else ""


def outcome_text(version: ModelVersion, estimate: float | None = None, *, elapsed: float | None = None,
                 percent: int | None = None, now=None) -> str:
    """One sentence saying where a run is or how it ended, in plain words."""
    now = now or timezone.now()
    name = f"{version.engine} v{version.pk}"
    if version.status == Status.QUEUED:
        waited = duration((now - version.created_at).total_seconds())
        return _("%(name)s is waiting for a worker (queued %(waited)s ago)") % {"name": name, "waited": waited}
    if elapsed is None and version.started_at:
        elapsed = ((version.finished_at or now) - version.started_at).total_seconds()
    took = duration(version.total_seconds if version.total_seconds is not None else elapsed)
    if version.status == Status.RUNNING:
        text = _("%(name)s: %(stage)s, %(percent)s %%, %(elapsed)s so far") % {
            "name": name, "stage": stage_label(version.stage) if version.stage else _("starting"),
            "percent": percent or version.progress,
            "elapsed": duration(elapsed)}
        if estimate and elapsed is not None:
            text += _("; about %(left)s left (the last run took %(last)s)") % {
                "left": duration(max(estimate - elapsed, 0)), "last": duration(estimate)}
        return text
    if version.status == Status.SUCCEEDED:
        if version.is_active:
            return _("%(name)s trained in %(took)s and is live") % {"name": name, "took": took}
        if version.activation_note.startswith("kept"):
            return _("%(name)s trained in %(took)s; %(note)s") % {"name": name, "took": took,
                                                                  "note": activation_note(version)}
        return _("%(name)s trained in %(took)s; no longer live") % {"name": name, "took": took}
    live = ModelVersion.objects.filter(engine=version.engine, is_active=True).values_list("pk", flat=True).first()
    serving_now = (_("v%(id)s keeps serving") % {"id": live} if live else
                   _("it had no model yet, so the storefront falls back to other engines"))
    return _("%(name)s failed%(after)s: %(reason)s; %(serving)s") % {
        "name": name, "after": _(" after %(took)s") % {"took": took} if version.started_at else "",
        "reason": error_line(version) or _("no reason recorded"), "serving": serving_now}


def version_url(version: ModelVersion) -> str:
    return reverse("admin:recommendations_modelversion_change", args=[version.pk])


def outcome_html(version: ModelVersion, suffix: str = "") -> SafeString:
    """``outcome_text`` with a link to the version's page (for messages)."""
    estimate = last_durations().get(version.engine) if version.status == Status.RUNNING else None
    return format_html('<a href="{}">{}</a>{}', version_url(version), outcome_text(version, estimate), suffix)


def training_summary(reports: list[dict[str, Any]]) -> str:
    """The line above the cards: how far a "Retrain all" (or any set of runs) has got."""
    if not reports:
        return _("No training has run yet.")
    counts = {status: sum(r["status"] == status for r in reports) for status in Status.values}
    busy = counts[Status.QUEUED] + counts[Status.RUNNING]
    live = sum(r["status"] == Status.SUCCEEDED and r["is_active"] for r in reports)
    finished = _("%(done)d of %(all)d finished (%(live)d live, %(kept)d kept the old version, "
                 "%(failed)d failed)") % {
        "done": len(reports) - busy, "all": len(reports), "live": live,
        "kept": counts[Status.SUCCEEDED] - live, "failed": counts[Status.FAILED]}
    if not busy:
        return _("Latest runs: %(finished)s.") % {"finished": finished}
    return _("Training: %(finished)s; %(running)d running, %(queued)d waiting.") % {
        "finished": finished, "running": counts[Status.RUNNING], "queued": counts[Status.QUEUED]}


def latest_runs() -> dict[str, ModelVersion]:
    latest: dict[str, ModelVersion] = {}
    for version in ModelVersion.objects.order_by("-created_at", "-id")[:200]:
        latest.setdefault(version.engine, version)
    return latest


def training_status() -> dict[str, Any]:
    """The status endpoint's answer (the dashboard renders its first state from the same)."""
    training.fail_stale_runs()
    now = timezone.now()
    latest = latest_runs()
    estimates = last_durations()
    active = dict(ModelVersion.objects.filter(is_active=True).values_list("engine", "pk"))
    ordered = sorted(latest, key=_engine_order)
    reports = {engine: {**run_report(latest[engine], estimates.get(engine), now),
                        "url": version_url(latest[engine])} for engine in ordered}
    busy = any(r["status"] in (Status.QUEUED, Status.RUNNING) for r in reports.values())
    return {"busy": busy, "summary": training_summary(list(reports.values())),
            "engines": {engine: {"active": active.get(engine), "latest": reports[engine]} for engine in ordered},
            "now": now.isoformat()}


def serving_report() -> dict[str, Any]:
    """What the storefront serves for "recommended for you" now: the engine (or the A/B test's
    engines), each with its live version and since when, and the fallbacks, naming the one that
    actually answers while an engine has no model."""
    live = {v.engine: v for v in ModelVersion.objects.filter(is_active=True)}
    arms = [(name, engine, weight) for name, engine, weight in serving.ab_variants() if weight > 0]
    total = sum(weight for _name, _engine, weight in arms)
    if app_settings.AB_TEST and total:
        heads = [{"variant": name, "engine": engine, "share": round(100 * weight / total)}
                 for name, engine, weight in arms]
    else:
        heads = [{"variant": "", "engine": app_settings.SERVING_ENGINE, "share": 100}]
    chain = list(dict.fromkeys(app_settings.FALLBACK_CHAIN))
    for head in heads:
        head["version"] = live.get(head["engine"])
        head["answered_by"] = next((name for name in [head["engine"], *chain] if name in live), None)
    return {"heads": heads, "ab_test": str((app_settings.AB_TEST or {}).get("name", "")) if len(heads) > 1 else "",
            "fallbacks": [{"engine": name, "version": live.get(name)} for name in chain],
            "fallback_in_use": any(head["answered_by"] != head["engine"] for head in heads)}


def _fmt_count(n: int | None) -> str:
    return number_format(n, force_grouping=True) if n is not None else "–"


class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "engine", "status", "stage_progress", "ndcg_display", "data_size",
                    "is_active", "triggered_by", "created_at"]
    list_display_links = ["__str__"]
    list_filter = ["engine", "status", "is_active"]
    search_fields = ["=engine", "triggered_by", "=task_id"]
    actions = ["retrain_selected", "force_activate"]
    change_list_template = "admin/recommendations/modelversion/change_list.html"
    # every field read-only; the self-tuning record shown as a sentence and a small table
    readonly_fields = [f.name if f.name != "tuning" else "tuning_display" for f in ModelVersion._meta.fields]
    exclude = ["tuning"]
    date_hierarchy = "created_at"

    # -- list ---------------------------------------------------------------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from trainings

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # every field is read-only: no save buttons (change permission is what the actions need)
        extra_context = {**(extra_context or {}), "show_save": False,
                         "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=gettext_lazy("self-tuning"))
    def tuning_display(self, obj: ModelVersion) -> str:
        tuning = obj.tuning or {}
        if not tuning.get("parameter"):
            return tuning.get("stopped", "") or _("not tuned")
        summary = format_html(
            _("{parameter}: {chosen} (default {default}); {n} trials in {seconds} s, stopped at: {stopped}"),
            parameter=tuning["parameter"], chosen=tuning["chosen"], default=tuning["default"],
            n=len(tuning.get("trials", [])), seconds=number_format(round(tuning.get("seconds", 0)), 0),
            stopped=tuning.get("stopped", ""))
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>",
                                ((t["value"], number_format(round(t["ndcg@10"], 4), 4))
                                 for t in tuning.get("trials", [])))
        return format_html('{}<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
                           summary, tuning["parameter"], _("validation ndcg@10"), rows)

    @admin.display(description=gettext_lazy("stage"))
    def stage_progress(self, obj: ModelVersion) -> str:
        if obj.status in (Status.QUEUED, Status.RUNNING):
            return f"{stage_label(obj.stage or 'waiting')} ({obj.progress}%)"
        return stage_label(obj.stage) if obj.stage else ""

    @admin.display(description="ndcg@10")
    def ndcg_display(self, obj: ModelVersion) -> str:
        value = obj.ndcg
        return number_format(round(value, 4), 4) if isinstance(value, (int, float)) else "–"

    @admin.display(description=pgettext_lazy("training data", "data"))
    def data_size(self, obj: ModelVersion) -> str:
        if not obj.n_events:
            return "–"
        return _("%(users)s users · %(products)s products · %(events)s events") % {
            "users": _fmt_count(obj.n_users), "products": _fmt_count(obj.n_products),
            "events": _fmt_count(obj.n_events)}

    # -- actions ------------------------------------------------------------------------------
    @admin.action(description=gettext_lazy("Retrain the engines of the selected versions"), permissions=["change"])
    def retrain_selected(self, request: HttpRequest, queryset) -> None:
        engines = sorted(set(queryset.values_list("engine", flat=True)), key=_engine_order)
        start_trainings(request, engines)

    @admin.action(description=gettext_lazy("Force-activate the selected version (skip the ndcg check)"),
                  permissions=["change"])
    def force_activate(self, request: HttpRequest, queryset) -> None:
        chosen = list(queryset)
        engines = [v.engine for v in chosen]
        if len(engines) != len(set(engines)):
            self.message_user(request, _("Select at most one version per engine to activate."),
                              messages.ERROR)
            return
        for version in chosen:
            if version.status != Status.SUCCEEDED or not version.artifact:
                self.message_user(request, _("%(version)s: only a succeeded version with an artifact "
                                             "can be activated.") % {"version": version}, messages.ERROR)
                continue
            training.activate(version, force=True)
            self.message_user(request, _("%(engine)s: v%(id)s is now active.") % {
                "engine": version.engine, "id": version.pk},
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
            messages.error(request, _("Unknown engine %(engine)r.") % {"engine": engine})
            engines = []
        if engines:
            start_trainings(request, engines, force=request.POST.get("force") == "1")
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:recommendations_dashboard"))

    def status_view(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(training_status(), headers={"Cache-Control": "no-store"})

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        status = training_status()  # marks dead runs failed first
        versions = list(ModelVersion.objects.order_by("-created_at", "-id")[:1000])
        configured = training.configured_engines()
        for engine in sorted(NEEDS_TENSORFLOW & set(app_settings.ENGINES)):
            if reason := training.tensorflow_unavailable_reason(engine):
                # "Retrain all" leaves it out
                messages.warning(request, _("%(engine)s: %(reason)s") % {"engine": engine, "reason": reason})
        names = sorted({*configured, *(v.engine for v in versions)}, key=_engine_order)
        rows = []
        for engine in names:
            mine = [v for v in versions if v.engine == engine]
            active = next((v for v in mine if v.is_active), None)
            finished = [v for v in mine if v.status == Status.SUCCEEDED]
            history = list(reversed([v for v in finished if v.metrics][:HISTORY_LENGTH]))
            rows.append({
                "engine": engine,
                "run": status["engines"].get(engine, {}).get("latest"),
                "configured": engine in configured,
                "active": active,
                "latest": mine[0] if mine else None,
                "metrics": _metric_rows(active.metrics if active else {}),
                "active_note": activation_note(active) if active else "",
                "data_size": self.data_size(active) if active else "–",
                "last_trained": finished[0].finished_at if finished else None,
                "chart": charts.line_chart(
                    _("%(engine)s: validation metrics by version") % {"engine": engine},
                    [f"v{v.pk}" for v in history],
                    {m: [_number(v.metrics.get(m)) for v in history] for m in HISTORY_METRICS},
                    empty=_("No succeeded version with metrics yet.")),
                "beyond_chart": _beyond_history(engine, history),
            })
        compared = [r for r in rows if r["active"] is not None and r["active"].metrics]
        comparison = charts.bar_chart(
            _("Active version of each engine: validation metrics"),
            [r["engine"] for r in compared],
            {m: [_number(r["active"].metrics.get(m)) for r in compared] for m in COMPARISON_METRICS})
        beyond = [r for r in compared if any(_number(r["active"].metrics.get(m)) is not None
                                             for m in (*BEYOND_METRICS, NOVELTY))]
        beyond_comparison = charts.bar_chart(
            _("Active version of each engine: beyond accuracy (diversity, popularity bias, exposure)"),
            [r["engine"] for r in beyond],
            {m: [_number(r["active"].metrics.get(m)) for r in beyond] for m in BEYOND_METRICS},
            empty=_("No active version with beyond-accuracy metrics yet."))
        novelty_comparison = charts.bar_chart(
            _("Active version of each engine: novelty@10 (mean self-information, bits)"),
            [r["engine"] for r in beyond], {NOVELTY: [_number(r["active"].metrics.get(NOVELTY)) for r in beyond]},
            width=420, empty=_("No active version with beyond-accuracy metrics yet."))
        if self.has_change_permission(request):
            tasks.prepare_to_queue()  # so that a Retrain click answers at once
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": _("Recommendation models"),
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
            "busy": status["busy"],
            "training": status,
            "training_runs": [e["latest"] for e in status["engines"].values()],
            "serving": serving_report(),
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
    return charts.line_chart(_("%(engine)s: beyond accuracy by version") % {"engine": engine},
                             [f"v{v.pk}" for v in history],
                             {m: [_number(v.metrics.get(m)) for v in history] for m in BEYOND_METRICS},
                             width=640)  # room for the four longer legend names


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """Accuracy first, then beyond accuracy, then the rest; "–" where the data could not say
    (e.g. ild_category@10 without product categories)."""
    shown = []
    for key in sorted(metrics, key=lambda k: (k not in COMPARISON_METRICS,
                                              k not in (*BEYOND_METRICS, NOVELTY), k)):
        value = metrics[key]
        shown.append((key, "–" if value is None else
                       number_format(round(value, 4), 4) if isinstance(value, float) else str(value)))
    return shown
