"""Cart and order URLs under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from checkout.views.carts import CartViewSet
from checkout.views.checkout import CartCheckoutView
from checkout.views.orders import OrderViewSet
from checkout.views.shipping import ShippingMethodListView

router = SimpleRouter()
router.register("carts", CartViewSet, basename="cart")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    path("carts/<uuid:id>/checkout/", CartCheckoutView.as_view(), name="cart-checkout"),
    path("shipping-methods/", ShippingMethodListView.as_view(), name="shipping-methods"),
    *router.urls,
]
