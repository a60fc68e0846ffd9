from django.urls import path

from api.views import HuiliuGraphQLView

urlpatterns = [path("", HuiliuGraphQLView.as_view(), name="graphql")]
