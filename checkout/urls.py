"""Cart, order and payment URLs under /api/v1/."""

from rest_framework.routers import SimpleRouter

from checkout.views.carts import CartViewSet

router = SimpleRouter()
router.register("carts", CartViewSet, basename="cart")

urlpatterns = router.urls
