"""The benchmark rates the platform starts with (CNY), and where each figure comes from.

Rates are quoted per 1,000 units (reach, messages, parcels) or per store-day; admins change
them in the channel-rate table. Public reference points used (2024–2025 market figures):

- WeChat official-account article slots: ¥50–200 CPM for low-authority accounts (mid-tier
  KOL accounts quote ¥300+ CPM); we take ¥100 for a first/secondary slot, ¥30 for a banner.
- SMS marketing: ¥0.04–0.07 per message at volume from the major SMS gateways → ¥50 per 1,000.
- Parcel inserts (包裹卡): ¥0.3–1.0 per parcel for third-party insert cards → ¥500 per 1,000.
- Private-domain pushes convert better than public feeds; WeCom 1-to-1 messages and group
  broadcasts are priced above feed CPM (¥120 and ¥80) and welfare-channel coupons (福利官)
  at ¥80, in line with the article-slot range above.
- Short-video and social feeds (Douyin, Kuaishou, Xiaohongshu, Weibo, Channels): ¥40–80 CPM
  for brand-owned account posts.
- In-store display: a counter card or poster in one store for one day, ¥30.
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
