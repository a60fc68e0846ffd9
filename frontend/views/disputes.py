"""Disputes on the web: opening one (from the delivery page or the campaign dashboard), the
dispute page both sides share (statements and evidence side by side, answer, add evidence,
withdraw), the brand's list, the access-checked evidence file, and the platform admins' queue
and resolve page.

Thin views: ``exchange.selectors`` decide what the caller sees (anything else is a 404),
``exchange.services.disputes`` what it may do.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from exchange import selectors, services
from exchange.models import DeliveryReport, Dispute, DisputeState, DisputeSubject
from exchange.proofs import content_type
from exchange.services.common import can_act_for
from exchange.services.disputes import ResultReason, counted_reaches, reason_label
from exchange.states import DeliveryState, DisputeReason
from frontend.dispute_forms import DisputeAnswerForm, DisputeOpenForm, DisputeResolveForm, EvidenceForm
from frontend.forms import apply_errors
from frontend.views.common import actor_of

PAGE_SIZE = 25


def _whole(raw, digits: int) -> bool:
    """An ASCII whole number of at most ``digits`` digits (``str.isdigit`` takes "²", which
    ``int()`` refuses)."""
    raw = str(raw)
    return raw.isascii() and raw.isdecimal() and len(raw) <= digits


def _dispute_or_404(actor, pk: int) -> Dispute:
    found = selectors.dispute_get(actor=actor, pk=pk)
    if found is None:
        raise Http404
    return found


def _sides(d: Dispute) -> list[dict]:
    evidence = list(d.evidence.all())
    return [
        {
            "brand": brand,
            "role": role,
            "text": text,
            "at": at,
            "evidence": [e for e in evidence if e.brand_id == brand.pk],
        }
        for brand, role, text, at in (
            (d.opened_by, _("Opened the dispute"), d.statement, d.opened_at),
            (d.respondent, _("Responds"), d.answer, d.answered_at),
        )
    ]


def _reports(d: Dispute) -> list[dict]:
    qs = DeliveryReport.objects.filter(campaign_id=d.campaign_id).select_related(
        "placement__placement", "placement__leg__promoter", "placement__leg__promoted"
    )
    if d.subject == DisputeSubject.DELIVERY:
        qs = qs.filter(pk=d.delivery_report_id)
    reports = list(qs.order_by("placement__leg_id", "placement_id"))
    counted = counted_reaches(d.campaign_id, [r for r in reports if r.state == DeliveryState.CONFIRMED])
    return [
        {
            "report": r,
            "counted": counted.get(r.pk),
            "adjusted": (d.adjustment or {}).get("reports", {}).get(str(r.pk)),
        }
        for r in reports
    ]


# --- opening ---------------------------------------------------------------------------------
@login_required
def open_dispute(request, pk: int):
    """``/campaigns/<pk>/disputes/new/?report=<id>`` — a delivery report, or (no report) the result."""
    actor = actor_of(request)
    campaign = selectors.campaign_visible(actor=actor).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    if not (can_act_for(actor, campaign.brand_a_id) or can_act_for(actor, campaign.brand_b_id)):
        raise PermissionDenied
    report = None
    report_id = request.POST.get("report") or request.GET.get("report")
    if report_id:
        report = selectors.delivery_report_get(actor=actor, pk=int(report_id) if _whole(report_id, 18) else 0)
        if report is None or report.campaign_id != campaign.pk:
            raise Http404
    reasons = DisputeReason.choices if report is not None else ResultReason.choices
    if request.method == "POST":
        form = DisputeOpenForm(request.POST, request.FILES, reasons=reasons)
        if form.is_valid():
            try:
                d = services.dispute_open(
                    actor=actor,
                    campaign=campaign,
                    subject=DisputeSubject.DELIVERY if report is not None else DisputeSubject.RESULT,
                    delivery_report=report,
                    reason=form.cleaned_data["reason"],
                    statement=form.cleaned_data["statement"],
                    evidence=form.evidence(),
                )
            except ValidationError as exc:
                apply_errors(form, exc, prefix_map={"note": "statement", "evidence": "files"})
            else:
                messages.success(request, _("Dispute opened. The other brand has been told and can answer."))
                return redirect("frontend:dispute", d.pk)
    else:
        form = DisputeOpenForm(reasons=reasons)
    return render(request, "frontend/disputes/open.html", {"campaign": campaign, "report": report, "form": form})


# --- the dispute page ------------------------------------------------------------------------
def _page(request, d: Dispute, forms: dict | None = None, status: int = 200):
    actor = actor_of(request)
    forms = forms or {}
    is_respondent = can_act_for(actor, d.respondent_id)
    is_opener = can_act_for(actor, d.opened_by_id)
    context = {
        "d": d,
        "reason": reason_label(d.reason),
        "sides": _sides(d),
        "reports": _reports(d),
        "can_answer": is_respondent and d.state == DisputeState.OPEN,
        "can_add": (is_respondent or is_opener) and d.is_open,
        "can_withdraw": is_opener and d.is_open,
        "answer_form": forms.get("answer") or DisputeAnswerForm(),
        "evidence_form": forms.get("evidence") or EvidenceForm(),
        "is_admin": actor.is_admin,
    }
    return render(request, "frontend/disputes/detail.html", context, status=status)


@login_required
def detail(request, pk: int):
    return _page(request, _dispute_or_404(actor_of(request), pk))


@require_POST
@login_required
def answer(request, pk: int):
    actor = actor_of(request)
    d = _dispute_or_404(actor, pk)
    form = DisputeAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.dispute_answer(
                actor=actor, dispute=d, answer=form.cleaned_data["answer"], evidence=form.evidence()
            )
        except ValidationError as exc:
            apply_errors(form, exc, prefix_map={"evidence": "files", "dispute": "answer"})
        else:
            messages.success(request, _("Your answer was sent. The platform will decide."))
            return redirect("frontend:dispute", d.pk)
    return _page(request, d, {"answer": form}, status=400)


@require_POST
@login_required
def evidence_add(request, pk: int):
    actor = actor_of(request)
    d = _dispute_or_404(actor, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.dispute_evidence_add(actor=actor, dispute=d, evidence=form.evidence())
        except ValidationError as exc:
            apply_errors(form, exc, prefix_map={"evidence": "files", "dispute": "files"})
        else:
            messages.success(request, _("Evidence added."))
            return redirect("frontend:dispute", d.pk)
    return _page(request, d, {"evidence": form}, status=400)


@require_POST
@login_required
def withdraw(request, pk: int):
    actor = actor_of(request)
    d = _dispute_or_404(actor, pk)
    try:
        services.dispute_withdraw(actor=actor, dispute=d)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Dispute withdrawn."))
    return redirect("frontend:dispute", d.pk)


@login_required
def brand_list(request):
    """The disputes of the caller's brands (admins: all), newest first."""
    actor = actor_of(request)
    page = Paginator(selectors.dispute_list(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "frontend/disputes/list.html", {"page": page})


@require_GET
@login_required
def evidence_file(request, pk: int, evidence_pk: int):
    """An evidence file, for the two brands and platform admins only (404 otherwise); its type
    comes from its content and the response is sandboxed."""
    actor = actor_of(request)
    d = _dispute_or_404(actor, pk)
    found = selectors.dispute_evidence_visible(actor=actor).filter(dispute=d, pk=evidence_pk).first()
    if found is None or not found.file:
        raise Http404
    try:
        stream = found.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    kind = content_type(stream)
    if kind is None:
        stream.seek(0)
        if stream.read(5) != b"%PDF-":
            stream.close()
            raise Http404
        stream.seek(0)
        kind = "application/pdf"
    response = FileResponse(stream, content_type=kind)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- platform admins -------------------------------------------------------------------------
def _admin(request):
    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied
    return actor


@login_required
def admin_queue(request):
    """Open disputes, oldest first."""
    actor = _admin(request)
    page = Paginator(selectors.dispute_list(actor=actor, open_only=True), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "frontend/exchange_admin/disputes.html", {"page": page, "section": "disputes"})


@login_required
def admin_resolve(request, pk: int):
    actor = _admin(request)
    d = _dispute_or_404(actor, pk)
    reports = _reports(d)
    form = DisputeResolveForm(request.POST or None)
    values = {}
    if request.method == "POST":
        adjustments, bad = {}, False
        for row in reports:
            raw = (request.POST.get(f"reach_{row['report'].pk}") or "").strip().replace(",", "")
            values[row["report"].pk] = raw
            if raw:
                if not _whole(raw, 15):
                    bad = True
                else:
                    adjustments[row["report"].pk] = int(raw)
        if bad:
            form.is_valid()
            form.add_error(None, _("A corrected reach is a whole number, 0 or more."))
        elif form.is_valid():
            try:
                services.dispute_resolve(
                    actor=actor,
                    dispute=d,
                    outcome=form.cleaned_data["outcome"],
                    decision=form.cleaned_data["decision"],
                    adjustments=adjustments if form.cleaned_data["outcome"] == "upheld" else {},
                )
            except ValidationError as exc:
                apply_errors(form, exc, prefix_map={"adjustments": None, "dispute": None})
            else:
                messages.success(request, _("The dispute is resolved; both brands have been told."))
                return redirect("frontend:disputes_admin")
    for row in reports:
        row["value"] = values.get(row["report"].pk, "")
    return render(
        request,
        "frontend/exchange_admin/dispute_resolve.html",
        {
            "d": d,
            "reason": reason_label(d.reason),
            "sides": _sides(d),
            "reports": reports,
            "form": form,
            "section": "disputes",
        },
    )
