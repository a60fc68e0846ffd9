"""The benchmark rates the platform starts with (CNY), and where each figure comes from.

Rates are quoted per 1,000 units (reach, messages, parcels) or per store-day; admins change
them in the channel-rate table (audited) as they gather their own market data.

Two anchors are public market ranges, as given in the product brief (issue #8):
- WeChat official-account article slots: ¥50–200 CPM for low-authority accounts → ¥100 for an
  article slot (the middle of the range), ¥30 for a banner (a lesser position).
- SMS marketing: ¥0.04–0.07 per message at volume → ¥50 per 1,000 messages.

Every other default is Huiliu's own estimate, placed relative to those anchors and stated as
such in docs/EXCHANGE.md — not a quoted market price:
- WeCom 1-to-1 messages ¥120 and group broadcasts ¥80 per 1,000: private pushes to people who
  chose to follow a brand are valued at or above a public article slot.
- Welfare-channel coupons (福利官) ¥60–80, mini-program pop-ups ¥40, app and mini-program
  banners ¥20, app pushes ¥30, e-mail ¥10 per 1,000.
- Brand-owned posts on short-video and social platforms (Douyin, Kuaishou, Channels,
  Xiaohongshu, Weibo): ¥40–80 per 1,000, below the article slot.
- Parcel inserts ¥500 per 1,000 parcels (¥0.50 each) and in-store displays ¥30 per store-day:
  the physical cost of printing and placing a card, rounded up.
"""

from __future__ import annotations

# (channel type, format) → rate in cents per basis (see PricingUnit.basis)
DEFAULT_RATES: dict[tuple[str, str], int] = {
    ("wecom", "direct_message"): 120_00,
    ("wecom", "welfare_coupon"): 80_00,
    ("wechat_group", "group_broadcast"): 80_00,
    ("wechat_group", "welfare_coupon"): 80_00,
    ("official_account", "article_slot"): 100_00,
    ("official_account", "banner"): 30_00,
    ("miniprogram", "miniprogram_popup"): 40_00,
    ("miniprogram", "banner"): 20_00,
    ("miniprogram", "welfare_coupon"): 60_00,
    ("app", "banner"): 20_00,
    ("app", "direct_message"): 30_00,
    ("sms", "sms"): 50_00,
    ("email", "direct_message"): 10_00,
    ("douyin", "article_slot"): 60_00,
    ("kuaishou", "article_slot"): 50_00,
    ("video_channel", "article_slot"): 60_00,
    ("xiaohongshu", "article_slot"): 80_00,
    ("weibo", "article_slot"): 40_00,
    ("store", "store_display"): 30_00,
    ("package_insert", "parcel_insert"): 500_00,
}
SOURCE = "Huiliu default (docs/EXCHANGE.md)"
