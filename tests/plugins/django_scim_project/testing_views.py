"""The harness's own door into the server: empty the database between tests, read the request log."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tests.plugins.django_scim_project import recorder
from tests.plugins.django_scim_project.auth import has_bearer_token


@csrf_exempt
@require_http_methods(["POST"])
def reset(request: HttpRequest) -> HttpResponse:
    """Delete every user and group (their SCIM rows go with them) and forget recorded requests."""
    if not has_bearer_token(request):
        return HttpResponse(status=401)
    with transaction.atomic():
        Group.objects.all().delete()
        get_user_model().objects.all().delete()
    recorder.clear()
    return HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def requests(request: HttpRequest) -> HttpResponse:
    if not has_bearer_token(request):
        return HttpResponse(status=401)
    if request.method == "DELETE":
        recorder.clear()
        return HttpResponse(status=204)
    return JsonResponse({"requests": recorder.recorded()})
