"""The PersonioIntegration API (hrsync.dev/v1alpha1): pydantic models, the source of the CRD."""

GROUP = "hrsync.dev"
VERSION = "v1alpha1"
KIND = "PersonioIntegration"
PLURAL = "personiointegrations"
SINGULAR = "personiointegration"
SHORT_NAMES = ["pi", "personio"]
