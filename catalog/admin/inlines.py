"""A product's variants, options and images, edited inline on the product's page.

The variants inline never writes `stock_on_hand` itself. A number typed there is a stock count
that goes through `catalog.stock.stock_set` (one ledger row for the difference, under the
variant's lock), called by the product admin once the rows are saved (`stock_changes`); every
other column is written with `update_fields` that leave `stock_on_hand` out, so a sale committed
while the page was open is never overwritten. The field carries its initial value in the page
(`show_hidden_initial`): only a number the staff member actually changed counts as a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from catalog.admin.common import available_of, held_of, ledger_link, money_cell, stock_cell
from catalog.availability import variants_with_availability
from catalog.models import MAX_UNIT_AMOUNT, ProductImage, ProductOption, ProductVariant

AT_LEAST_ONE_VARIANT = (
    "A product is sold through its variants: keep at least one (a SKU and a price). "
    "To stop selling it, untick “is active” instead."
)


@dataclass(frozen=True)
class StockChange:
    """A stock number typed into the inline: set it with `stock_set` once the row is saved."""

    variant_id: int
    on_hand: int | None
    new_variant: bool


class VariantForm(forms.ModelForm):
    """A variant's columns (its own page), the price's range checked on the field."""

    unit_amount = forms.IntegerField(
        label="Unit amount",
        min_value=1,
        max_value=MAX_UNIT_AMOUNT,
        help_text="Minor units: 149900 is ₹1,499.00.",
    )

    class Meta:
        model = ProductVariant
        fields = [
            *("product", "sku", "title", "options", "unit_amount", "currency", "is_active", "position"),
            "requires_shipping",
        ]
        widgets = {"options": forms.Textarea(attrs={"rows": 1, "cols": 24})}

    def clean_options(self) -> Any:
        return self.cleaned_data.get("options") or {}


class VariantInlineForm(VariantForm):
    """A row of the product's variants inline: its columns and a stock count."""

    class Meta(VariantForm.Meta):
        fields = [
            "sku",
            "title",
            "options",
            "unit_amount",
            "currency",
            "is_active",
            "stock_on_hand",
            "position",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The value the page was shown with is posted back, so `changed_data` says whether staff
        # typed a new number, not whether a sale moved the stock meanwhile.
        self.fields["stock_on_hand"].show_hidden_initial = True

    def clean_stock_on_hand(self) -> int | None:
        value: int | None = self.cleaned_data.get("stock_on_hand")
        # An oversold variant may show below 0; only a number typed now must be a real count.
        if value is not None and value < 0 and "stock_on_hand" in self.changed_data:
            raise ValidationError("On-hand stock can't be set below 0.")
        return value


class VariantFormSet(BaseInlineFormSet):
    """At least one variant; rows saved without `stock_on_hand`, stock numbers in `stock_changes`."""

    stock_changes: list[StockChange]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stock_changes = []

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError(AT_LEAST_ONE_VARIANT, code="no_variant")
        if self.instance._state.adding:
            # A new product's row needs a price to be inserted: the first variant's, until the
            # product admin's `product_sync` sets the lowest active one after the variants exist.
            self.instance.unit_amount = kept[0].cleaned_data["unit_amount"]
            self.instance.currency = kept[0].cleaned_data["currency"]

    def save_new(self, form: forms.ModelForm, commit: bool = True) -> Any:
        on_hand = form.cleaned_data.get("stock_on_hand")
        form.instance.stock_on_hand = None  # created untracked; the number goes through the ledger
        variant = super().save_new(form, commit=commit)
        if commit and on_hand is not None:
            self.stock_changes.append(StockChange(variant.pk, on_hand, new_variant=True))
        return variant

    def save_existing(self, form: forms.ModelForm, obj: Any, commit: bool = True) -> Any:
        if not commit:
            return super().save_existing(form, obj, commit=commit)
        if "stock_on_hand" in form.changed_data:
            self.stock_changes.append(
                StockChange(obj.pk, form.cleaned_data["stock_on_hand"], new_variant=False)
            )
        columns = [name for name in form.changed_data if name != "stock_on_hand"]
        if columns:
            obj.save(update_fields=[*columns, "updated_at"])
        return obj


class ProductVariantInline(admin.TabularInline):
    """The product's variants with price, stock on hand, what pending orders hold and what is left."""

    model = ProductVariant
    form = VariantInlineForm
    formset = VariantFormSet
    fields = (
        *("sku", "title", "options", "unit_amount", "price", "currency", "is_active"),
        *("stock_on_hand", "held", "available", "position", "ledger"),
    )
    readonly_fields = ("price", "held", "available", "ledger")
    extra = 0
    min_num = 1
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductVariant]:
        return variants_with_availability(super().get_queryset(request))

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "stock_on_hand" and field is not None:
            field.help_text = "Units counted on hand; empty = not tracked. A change is a ledger row."
        return field

    @admin.display(description="price")
    def price(self, variant: ProductVariant) -> str:
        return money_cell(variant.unit_amount, variant.currency) if variant.pk else "—"

    @admin.display(description="held")
    def held(self, variant: ProductVariant) -> str:
        return stock_cell(variant, held_of(variant))

    @admin.display(description="available")
    def available(self, variant: ProductVariant) -> str:
        return stock_cell(variant, available_of(variant))

    @admin.display(description="ledger")
    def ledger(self, variant: ProductVariant) -> SafeString | str:
        return ledger_link(variant)


class ProductOptionInline(admin.TabularInline):
    """The dimensions the product comes in (Size: S, M, L), in display order."""

    model = ProductOption
    fields = ("name", "values", "position")
    extra = 0
    formfield_overrides = {models.JSONField: {"widget": forms.Textarea(attrs={"rows": 1, "cols": 40})}}


class ProductImageInline(admin.TabularInline):
    """The product's pictures, stored through the storage API, with a preview of each."""

    model = ProductImage
    fields = ("image", "preview", "alt", "position")
    readonly_fields = ("preview",)
    extra = 0

    @admin.display(description="preview")
    def preview(self, image: ProductImage) -> SafeString | str:
        if image.pk is None or not image.image:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" class="product-image-preview" style="max-height:80px;max-width:120px">',
            image.image.url,
            image.alt,
        )
