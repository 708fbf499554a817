"""A second host shop, unlike the first: articles keyed by UUID, in several sections each, priced
by their offers (the cheapest is the price), and customers who sign in by email (no ``username``).
The app describes it through ``adapter.ArticleAdapter`` (see settings.py)."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.urls import reverse


class CustomerManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


class Customer(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=120, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    objects = CustomerManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name


class Section(models.Model):
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Maker(models.Model):
    name = models.CharField(max_length=80, unique=True)

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    headline = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    sections = models.ManyToManyField(Section, related_name="articles")
    maker = models.ForeignKey(Maker, on_delete=models.PROTECT, null=True, blank=True)
    cover = models.CharField(max_length=200, blank=True)
    published = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.headline

    def get_absolute_url(self) -> str:
        return reverse("product-detail", args=[self.pk])


class Offer(models.Model):
    """One seller's price and stock for an article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="offers")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField(default=1)
