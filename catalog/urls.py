"""Catalog URLs under /api/v1/."""

from rest_framework.routers import SimpleRouter

from catalog.views import CategoryViewSet, ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = router.urls
