from django.urls import include, path

from tests.plugins.django_scim_project import testing_views

urlpatterns = [
    path("scim/v2/", include("django_scim2_server.urls")),
    path("testing/reset", testing_views.reset),
    path("testing/requests", testing_views.requests),
]
