"""Who clicked, as far as a redirect may know without keeping anything personal: a visitor id
(the first-party ``hl_vid`` cookie, else a salted hash of address and user agent), the
referring host, the class of user agent, and whether the click looks automated.

The address is only ever an input of the hash: the salt is derived from ``SECRET_KEY`` and
the date (Asia/Shanghai) and changes every day, so yesterday's ids cannot be recomputed from
an address, and no address is ever stored or logged.

The agent lists are the one place to extend when a new previewer shows up in the flagged
clicks. WeChat's in-app browser (``MicroMessenger``) is a person reading a link; the bots
named here fetch a link to build a preview card or index it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings

from exchange.models.tracking import BotReason, UaClass, VisitorKind

VISITOR_COOKIE = "hl_vid"
VISITOR_ID_LENGTH = 32  # hex characters (128 bits)
_VISITOR_ID = re.compile(r"^[0-9a-f]{32}$")

# Link unfurlers: chat apps and social networks fetching a link to draw its preview card.
_PREVIEW = re.compile(
    r"facebookexternalhit|facebookcatalog|Facebot|meta-externalagent|Twitterbot|Slackbot|Slack-ImgProxy|"
    r"TelegramBot|WhatsApp/|Discordbot|LinkedInBot|SkypeUriPreview|Iframely|Embedly|redditbot|Pinterestbot|"
    r"vkShare|KakaoTalk-Scrap|Mastodon/|Bluesky Cardyb|BingPreview|Google-PageRenderer|"
    r"WeChat.?Bot|WeChat.?Spider|WeChatShareExtension|Feishu.?Bot|LarkBot|DingTalkBot|DingTalk-LinkService",
    re.IGNORECASE,
)
# Crawlers, monitors and HTTP libraries. Any other "…bot" is matched after a lower-case letter
# and followed by "/", ";", ")" or the end ("Foobot/1.0", "compatible; Foobot;"), so phone
# models such as "CUBOT X30" stay people.
_BOT_NAMED = re.compile(
    r"Googlebot|bingbot|Baiduspider|Bytespider|YandexBot|Sogou|360Spider|HaosouSpider|YisouSpider|"
    r"PetalBot|AhrefsBot|SemrushBot|MJ12bot|DotBot|DuckDuckBot|Slurp|Applebot|GPTBot|ClaudeBot|CCBot|"
    r"crawler|spider|HeadlessChrome|PhantomJS|Lighthouse|Pingdom|UptimeRobot|StatusCake|"
    r"curl/|Wget/|python-requests|python-urllib|aiohttp|httpx|Go-http-client|okhttp|Java/|Apache-HttpClient|"
    r"libwww-perl|node-fetch|axios/|Scrapy|Postman|insomnia",
    re.IGNORECASE,
)
_BOT_SUFFIX = re.compile(r"[a-z][bB]ot(?:/|;|\)|$)")
_MOBILE = re.compile(r"Mobile|Android|iPhone|iPad|iPod|MicroMessenger|HarmonyOS|OpenHarmony|Windows Phone")
_BROWSER = re.compile(r"^Mozilla/5\.0 .*(?:Chrome|Safari|Firefox|Edg|OPR|Gecko|Trident)")


class AgentVerdict(NamedTuple):
    ua_class: str
    bot_reason: str  # "" when the agent looks like a person


def classify_agent(user_agent: str) -> AgentVerdict:
    ua = (user_agent or "").strip()
    if not ua:
        return AgentVerdict(UaClass.OTHER, BotReason.NO_AGENT)
    if _PREVIEW.search(ua):
        return AgentVerdict(UaClass.PREVIEW, BotReason.PREVIEW_AGENT)
    if _BOT_NAMED.search(ua) or _BOT_SUFFIX.search(ua):
        return AgentVerdict(UaClass.BOT, BotReason.BOT_AGENT)
    if _MOBILE.search(ua):
        return AgentVerdict(UaClass.MOBILE, "")
    if _BROWSER.search(ua):
        return AgentVerdict(UaClass.BROWSER, "")
    return AgentVerdict(UaClass.OTHER, "")


@lru_cache(maxsize=4)
def daily_salt(day: date) -> bytes:
    """HMAC of the date under SECRET_KEY: unpredictable without the key, new every day."""
    return hmac.new(settings.SECRET_KEY.encode(), f"huiliu.visitor.{day.isoformat()}".encode(), hashlib.sha256).digest()


def hashed_visitor(ip: str, user_agent: str, day: date) -> str:
    digest = hashlib.sha256(daily_salt(day) + ip.encode() + b"\n" + user_agent.encode()).hexdigest()
    return digest[:VISITOR_ID_LENGTH]


class Visitor(NamedTuple):
    id: str
    kind: str
    set_cookie: bool  # the response should plant the id as the visitor's cookie


def visitor_of(*, cookie: str | None, ip: str, user_agent: str, day: date) -> Visitor:
    """The cookie when it holds a well-formed id; otherwise the day's hash, which the response
    then plants as the cookie so the visitor's next clicks carry the same id."""
    if cookie and _VISITOR_ID.match(cookie):
        return Visitor(cookie, VisitorKind.COOKIE, False)
    return Visitor(hashed_visitor(ip, user_agent, day), VisitorKind.HASH, True)


def referrer_host(referer: str) -> str:
    """Only the host of the referring page: never its path or query (they may carry ids)."""
    if not referer:
        return ""
    try:
        host = urlsplit(referer.strip()).hostname or ""
    except ValueError:
        return ""
    return host[:255]
