"""What the CRM hands the plan (sop sits below it and never imports it): the ``deal_at_risk``
alert source of plan runs, and the panels of the demand review and the product page."""

from crm import services, views
from sop import extensions


def connect() -> None:
    extensions.connect(extensions.PLAN_ALERT_SOURCES, services.deal_at_risk_candidates)
    extensions.connect(extensions.DEMAND_REVIEW_PANELS, views.demand_review_panel)
    extensions.connect(extensions.PRODUCT_PANELS, views.product_panel)
