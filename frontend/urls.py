from django.urls import path

from frontend.views import (
    accounts,
    brands,
    campaign_assets,
    campaigns,
    compose,
    delivery,
    exchange_admin,
    inbox,
    logos,
    matcher,
    proposals,
    public,
    recommendations,
    review,
    webhooks,
    wizard,
)

app_name = "frontend"

urlpatterns = [
    path("", public.home, name="home"),
    path("brands/", public.marketplace, name="marketplace"),
    path("brands/<slug:slug>/", public.brand_public, name="brand_public"),
    path("brands/<slug:slug>/logo/", logos.brand_logo, name="brand_logo"),
    # Accounts
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.signin, name="login"),
    path("logout/", accounts.signout, name="logout"),
    # Registration wizard
    path("register/", wizard.start, name="wizard_start"),
    path("register/profile/", wizard.profile, name="wizard_profile"),
    path("register/audience/", wizard.audience, name="wizard_audience"),
    path("register/channels/", wizard.channels, name="wizard_channels"),
    path("register/review/", wizard.review, name="wizard_review"),
    path("register/cancel/", wizard.cancel, name="wizard_cancel"),
    # A member's brands
    path("dashboard/", brands.dashboard, name="dashboard"),
    path("dashboard/brands/<slug:slug>/", brands.brand_detail, name="brand_detail"),
    path("dashboard/brands/<slug:slug>/edit/", brands.brand_edit, name="brand_edit"),
    path("dashboard/brands/<slug:slug>/channels/", brands.brand_channels, name="brand_channels"),
    path("dashboard/brands/<slug:slug>/logo/", logos.brand_logo_upload, name="brand_logo_upload"),
    path("dashboard/brands/<slug:slug>/resubmit/", brands.brand_resubmit, name="brand_resubmit"),
    path("dashboard/brands/<slug:slug>/keys/", brands.api_keys, name="api_keys"),
    path("dashboard/brands/<slug:slug>/keys/<int:key_id>/revoke/", brands.api_key_revoke, name="api_key_revoke"),
    path("dashboard/brands/<slug:slug>/webhooks/", webhooks.endpoint_list, name="webhooks"),
    path("dashboard/brands/<slug:slug>/webhooks/<int:pk>/", webhooks.endpoint_detail, name="webhook_detail"),
    path("dashboard/brands/<slug:slug>/webhooks/<int:pk>/rotate/", webhooks.endpoint_rotate, name="webhook_rotate"),
    path("dashboard/brands/<slug:slug>/webhooks/<int:pk>/toggle/", webhooks.endpoint_toggle, name="webhook_toggle"),
    path("dashboard/brands/<slug:slug>/webhooks/<int:pk>/delete/", webhooks.endpoint_delete, name="webhook_delete"),
    path("dashboard/brands/<slug:slug>/webhooks/<int:pk>/replay/", webhooks.replay_failed, name="webhook_replay"),
    path(
        "dashboard/brands/<slug:slug>/webhooks/<int:pk>/deliveries/<int:delivery_id>/replay/",
        webhooks.delivery_replay,
        name="webhook_delivery_replay",
    ),
    # Recommended partners (matching)
    path("dashboard/partners/", recommendations.pick_brand, name="recommendations_pick"),
    path("dashboard/brands/<slug:slug>/partners/", recommendations.partner_list, name="recommendations"),
    path(
        "dashboard/brands/<slug:slug>/partners/<int:partner_id>/dismiss/",
        recommendations.dismiss,
        name="recommendation_dismiss",
    ),
    path(
        "dashboard/brands/<slug:slug>/partners/<int:partner_id>/undismiss/",
        recommendations.undismiss,
        name="recommendation_undismiss",
    ),
    # Swap proposals (exchange)
    path("dashboard/brands/<slug:slug>/proposals/new/", compose.compose, name="proposal_new"),
    path("dashboard/brands/<slug:slug>/proposals/new/preview/", compose.compose_preview, name="proposal_new_preview"),
    path("proposals/", inbox.inbox, name="inbox"),
    path("proposals/<int:pk>/", proposals.detail, name="proposal"),
    path("proposals/<int:pk>/counter/", compose.counter, name="proposal_counter"),
    path("proposals/<int:pk>/counter/preview/", compose.counter_preview, name="proposal_counter_preview"),
    path("proposals/<int:pk>/accept/", proposals.accept, name="proposal_accept"),
    path("proposals/<int:pk>/decline/", proposals.decline, name="proposal_decline"),
    path("proposals/<int:pk>/withdraw/", proposals.withdraw, name="proposal_withdraw"),
    path("proposals/<int:pk>/message/", proposals.message, name="proposal_message"),
    path("proposals/notifications/<int:pk>/", inbox.notification_open, name="notification_open"),
    path("proposals/notifications/read/", inbox.notifications_read, name="notifications_read"),
    # Swap campaigns (what accepted proposals became)
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", campaigns.dashboard, name="campaign"),
    # Platform admins
    path("review/", review.queue, name="queue"),
    path("review/<int:pk>/<slug:action>/", review.transition, name="queue_transition"),
    path("review/matcher/", matcher.matcher, name="matcher"),
    path("review/matcher/retrain/", matcher.retrain, name="matcher_retrain"),
    path("review/matcher/runs/<int:run_id>/", matcher.run_status, name="matcher_run_status"),
    path("review/rates/", exchange_admin.rates, name="rates"),
    path("review/rates/<int:pk>/", exchange_admin.rate_edit, name="rate_edit"),
    path("review/proposals/", exchange_admin.proposals, name="proposals_admin"),
    # Delivery reports (a campaign's delivery panel, its forms and proofs; disputes for admins)
    path("campaigns/<int:pk>/delivery/", delivery.page, name="campaign_delivery"),
    path("campaigns/<int:pk>/delivery/<int:placement_pk>/report/", delivery.report, name="delivery_report"),
    path("campaigns/<int:pk>/delivery/reports/<int:report_pk>/confirm/", delivery.confirm, name="delivery_confirm"),
    path("campaigns/<int:pk>/delivery/reports/<int:report_pk>/dispute/", delivery.dispute, name="delivery_dispute"),
    path("campaigns/<int:pk>/delivery/reports/<int:report_pk>/proof/", delivery.proof, name="delivery_proof"),
    path("review/deliveries/", delivery.disputed_admin, name="deliveries_admin"),
    # Campaign assets: coupons, QR codes, reported orders and new members (exchange)
    path("campaigns/<int:pk>/assets/", campaign_assets.assets, name="campaign_assets"),
    path(
        "campaigns/<int:pk>/assets/placements/<int:placement>/coupons/",
        campaign_assets.coupons_generate,
        name="campaign_coupons_generate",
    ),
    path(
        "campaigns/<int:pk>/assets/placements/<int:placement>/coupons.csv",
        campaign_assets.coupons_csv,
        name="campaign_coupons_csv",
    ),
    path(
        "campaigns/<int:pk>/assets/placements/<int:placement>/qr.<str:fmt>",
        campaign_assets.qr,
        name="campaign_qr",
    ),
    path(
        "campaigns/<int:pk>/assets/events/<int:event>/reverse/",
        campaign_assets.event_reverse,
        name="campaign_event_reverse",
    ),
]
