"""Cart, order and payment URLs under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from checkout.views.carts import CartViewSet
from checkout.views.checkout import CartCheckoutView
from checkout.views.orders import OrderViewSet
from checkout.views.payments import StripeWebhookView

router = SimpleRouter()
router.register("carts", CartViewSet, basename="cart")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    path("carts/<uuid:id>/checkout/", CartCheckoutView.as_view(), name="cart-checkout"),
    path("payments/stripe/webhook/", StripeWebhookView.as_view(), name="stripe-webhook"),
    *router.urls,
]
