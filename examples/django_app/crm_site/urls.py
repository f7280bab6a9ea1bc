"""URLs of the example site: the crm_bridge JSON views."""

from crm_bridge import views
from django.urls import path

urlpatterns = [
    path("customers/", views.customers, name="customers"),
    path("customers/<str:customer_id>/", views.customer_detail, name="customer-detail"),
]
