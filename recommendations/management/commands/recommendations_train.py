"""Train one engine or all of them, in this process (--sync) or through Celery."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from recommendations import profiles, tasks, training
from recommendations.conf import ENGINE_NAMES
from recommendations.models import ModelVersion


class Command(BaseCommand):
    help = "Train recommendation engines (all configured ones by default)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--engine", action="append", choices=ENGINE_NAMES,
                            help="Engine to train (repeatable). Default: every configured engine.")
        parser.add_argument("--sync", action="store_true",
                            help="Train in this process instead of queueing Celery tasks.")
        parser.add_argument("--missing", action="store_true",
                            help="Only engines that have no active version yet.")
        parser.add_argument("--force", action="store_true",
                            help="Activate the new version even if it validates worse.")

    def handle(self, *args, engine=None, sync=False, force=False, missing=False, **options) -> None:
        engines = engine or training.configured_engines()
        if missing:
            # ... and no run queued or running either (a demo started again finds its last queue)
            training.fail_stale_runs()
            have = set(ModelVersion.objects.filter(is_active=True).values_list("engine", flat=True))
            have |= set(ModelVersion.objects.filter(status__in=[ModelVersion.Status.QUEUED,
                                                                ModelVersion.Status.RUNNING])
                        .values_list("engine", flat=True))
            engines = [name for name in engines if name not in have]
        failed = []
        for name in engines:
            reason = training.missing_data(name)
            if reason:
                self.stderr.write(self.style.WARNING(f"{name}: skipped: {reason}"))
                continue
            if not sync:
                try:
                    version = tasks.queue(name, triggered_by="command", force=force)
                except Exception as exc:  # noqa: BLE001
                    raise CommandError(f"could not queue {name}: {exc}") from exc
                self.stdout.write(f"{name}: queued as version {version.pk}")
                continue
            self.stdout.write(f"{name}: training…", ending="\n")
            try:
                version = training.run_sync(name, triggered_by="command", force=force)
            except Exception as exc:  # noqa: BLE001
                failed.append(name)
                self.stderr.write(self.style.ERROR(f"{name}: failed: {exc}"))
                continue
            ndcg = version.metrics.get("ndcg@10")
            self.stdout.write(self.style.SUCCESS(
                f"{name}: version {version.pk} "
                f"{'active' if version.is_active else 'kept inactive (' + version.activation_note + ')'}"
                f", ndcg@10 {ndcg if ndcg is None else round(ndcg, 4)}, fit {version.fit_seconds:.1f} s, "
                f"{version.n_users} users × {version.n_products} products, {version.n_events} events"))
        if sync and len(failed) < len(engines):
            # What a training task does after it succeeds (tasks.train_engine), here in-process.
            keys = profiles.shoppers_to_refresh(stale_only=True)
            tasks.refresh_profiles_chunk.apply(args=[keys])
            self.stdout.write(f"shopper profiles: {len(keys)} computed or brought up to date")
        if failed:
            raise CommandError(f"training failed for: {', '.join(failed)}")
