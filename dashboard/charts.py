"""Figure builders: each returns a plotly figure from a frame of :mod:`calc.reports` (never shows it).

Every party is drawn in its colour of :mod:`dashboard.theme`, money with a
dollar axis and percents as percents, so the same party looks the same on
every page.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from calc.vocabulary import COMPLETE_TERMINATION
from dashboard import theme

FONT = "Source Sans Pro, Arial, sans-serif"
MAX_EVENT_LABELS = 14
BAR_WIDTH_MS = 20 * 24 * 3600 * 1000  # a monthly bar on a date axis: 20 days wide


def _layout(fig: go.Figure, title: str | None = None, height: int = 360, money: bool = False,
            percent: bool = False, legend: bool = True) -> go.Figure:
    # No plotly template: st.plotly_chart draws in the app's theme (light or dark), and building a
    # template costs more than the figure itself.
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}} if title else None,
        height=height,
        margin={"l": 10, "r": 10, "t": 48 if title else 28, "b": 10},
        font={"family": FONT, "size": 12},
        hovermode="x unified",
        showlegend=legend,
        # Below the plot in pixels, not in plot fractions: on a short chart a fraction would put the
        # legend on the axis labels.  Plotly widens the bottom margin to fit the legend's rows.
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "xanchor": "left", "x": 0,
                "title": None},
        bargap=0.15,
    )
    if money:
        fig.update_yaxes(tickprefix="$", tickformat=",.0f", separatethousands=True)
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return fig


def _month_axis(fig: go.Figure, months: pd.Series) -> go.Figure:
    """A date axis read in months: each month's figure drawn across its month, ``Jun 2020`` labels."""
    fig.update_traces(xperiod="M1", xperiodalignment="middle")
    # Dense monthly bars keep their full colour: no white outline eating into thin bars.
    fig.update_traces(width=BAR_WIDTH_MS, marker_line_width=0, opacity=1.0, selector={"type": "bar"})
    fig.update_xaxes(tickformat="%b %Y", hoverformat="%B %Y", ticklabelmode="period")
    if len(months):
        lo, hi = pd.Timestamp(months.min()), pd.Timestamp(months.max())
        if (hi - lo).days < 100:
            start = lo - pd.offsets.MonthBegin(1) if lo.day != 1 else lo
            fig.update_xaxes(range=[start - pd.Timedelta(days=5), hi + pd.Timedelta(days=5)], dtick="M1")
    return fig


def _focus(fig: go.Figure, months: pd.Series) -> go.Figure:
    """Limit the date axis to ``months`` (the months with something to show), half a month either side."""
    if len(months):
        lo, hi = pd.Timestamp(months.min()), pd.Timestamp(months.max())
        fig.update_xaxes(range=[lo - pd.Timedelta(days=20), hi + pd.Timedelta(days=20)])
    return fig


def empty_figure(message: str, height: int = 240) -> go.Figure:
    """A blank chart carrying ``message`` (used where a view has no rows)."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 14, "color": "#595959"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, height=height, legend=False)


def add_events(fig: go.Figure, events: pd.DataFrame) -> go.Figure:
    """Mark tenure changes (grey dashed) and Complete Terminations (red) on a date axis.

    Events of the same kind on the same day are one mark (over the complex, a new distributor
    appointed for 81 portfolios at once is one line, "↔ 81 portfolios"), its label naming them on
    hover.  With many marks the tenure changes are drawn unlabelled.
    """
    if events is None or events.empty:
        return fig
    marks = events.groupby(["date", "kind"], sort=True).agg(
        portfolios=("portfolio_id", lambda p: sorted(set(map(str, p)))), labels=("label", list)).reset_index()
    label_each = len(marks) <= MAX_EVENT_LABELS
    shapes, notes = list(fig.layout.shapes or ()), list(fig.layout.annotations or ())
    for e in marks.itertuples(index=False):
        termination = e.kind == COMPLETE_TERMINATION
        colour = theme.TERMINATION_COLOUR if termination else theme.TENURE_COLOUR
        x = pd.Timestamp(e.date)
        shapes.append({"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "yref": "paper", "xref": "x",
                       "line": {"color": colour, "width": 1.5 if termination else 0.8,
                                "dash": "solid" if termination else "dash"},
                       "opacity": 1.0 if termination or label_each else 0.35})
        if termination or label_each:
            what = e.portfolios[0] if len(e.portfolios) == 1 else f"{len(e.portfolios)} portfolios"
            hover = "<br>".join(e.labels[:12]) + (f"<br>… and {len(e.labels) - 12} more" if len(e.labels) > 12 else "")
            notes.append({"x": x, "y": 1.0, "xref": "x", "yref": "paper", "yanchor": "bottom", "showarrow": False,
                          "text": ("✕ " if termination else "↔ ") + what, "hovertext": hover,
                          "font": {"size": 10, "color": colour}})
    fig.update_layout(shapes=shapes, annotations=notes)
    return fig


def party_revenue_bars(frame: pd.DataFrame, value: str = "total", title: str | None = None,
                       events: pd.DataFrame | None = None) -> go.Figure:
    """Monthly stacked bars by party (``revenue.monthly_revenue_by_party``), tenure changes and
    Complete Terminations marked."""
    if frame.empty:
        return empty_figure("No fees or CDSCs in this period")
    fig = go.Figure()
    for party, g in frame.groupby("party", sort=True):
        fig.add_bar(
            x=g["month_end"], y=g[value], name=party, marker_color=theme.party_colour(party),
            customdata=g[["distribution_fee", "service_fee", "cdsc"]].to_numpy(),
            hovertemplate=(f"<b>{party}</b> $%{{y:,.2f}}<br>Distribution Fee $%{{customdata[0]:,.2f}} · "
                           "service $%{customdata[1]:,.2f} · CDSC $%{customdata[2]:,.2f}<extra></extra>"),
        )
    fig.update_layout(barmode="relative")
    fig = _month_axis(_layout(fig, title, money=True), frame["month_end"])
    return add_events(fig, events if events is not None else pd.DataFrame())


def money_kind_bars(frame: pd.DataFrame, title: str | None = None, events: pd.DataFrame | None = None) -> go.Figure:
    """Monthly stacked bars of Distribution Fee, service fee and CDSC (``revenue.monthly_revenue``)."""
    if frame.empty:
        return empty_figure("No fees or CDSCs in this period")
    fig = go.Figure()
    for col, label in (("distribution_fee", "Distribution Fee"), ("service_fee", "Service fee"), ("cdsc", "CDSC")):
        fig.add_bar(x=frame["month_end"], y=frame[col], name=label, marker_color=theme.MONEY_COLOURS[label],
                    hovertemplate=f"{label} $%{{y:,.2f}}<extra></extra>")
    fig.update_layout(barmode="relative")
    fig = _month_axis(_layout(fig, title, money=True), frame["month_end"])
    return add_events(fig, events if events is not None else pd.DataFrame())


def annual_trend_chart(frame: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Money by year (``revenue.annual_revenue``), stacked by kind, with the average net assets
    as a line on a second axis; a year not complete in the run is labelled with its months."""
    if frame.empty:
        return empty_figure("No years in this run")
    labels = [str(y) if m == 12 else f"{y} ({m} mo)" for y, m in zip(frame["year"], frame["months"], strict=True)]
    fig = go.Figure()
    for col, label in (("distribution_fee", "Distribution Fee"), ("service_fee", "Service fee"), ("cdsc", "CDSC")):
        fig.add_bar(x=labels, y=frame[col], name=label, marker_color=theme.MONEY_COLOURS[label],
                    marker_line_width=0, hovertemplate=f"{label} $%{{y:,.0f}}<extra></extra>")
    fig.add_scatter(x=labels, y=frame["average_net_assets"], name="Average net assets (right axis)", yaxis="y2",
                    mode="lines+markers", line={"color": theme.NET_ASSETS_COLOUR, "width": 2},
                    customdata=frame[["fee_rate"]].to_numpy(),
                    hovertemplate="Net assets $%{y:,.0f} · Distribution Fee %{customdata[0]:.2%} a year<extra></extra>")
    fig.update_layout(barmode="relative", yaxis2={"overlaying": "y", "side": "right", "showgrid": False,
                                                  "tickprefix": "$", "tickformat": "~s", "rangemode": "tozero"})
    fig = _layout(fig, title, height=360, money=True)
    fig.update_xaxes(type="category")
    return fig


def group_bars(frame: pd.DataFrame, by: str, title: str | None = None, height: int = 300) -> go.Figure:
    """Horizontal bars of money by Fund or schedule (``revenue.revenue_by_group``), stacked by kind."""
    if frame.empty:
        return empty_figure("Nothing in this period", height=height)
    ordered = frame.sort_values("total")
    fig = go.Figure()
    for col, label in (("distribution_fee", "Distribution Fee"), ("service_fee", "Service fee"), ("cdsc", "CDSC")):
        fig.add_bar(y=ordered[by], x=ordered[col], name=label, orientation="h",
                    marker_color=theme.MONEY_COLOURS[label], hovertemplate=f"{label} $%{{x:,.2f}}<extra></extra>")
    fig.update_layout(barmode="relative", hovermode="y unified")
    fig = _layout(fig, title, height=max(height, 90 + 26 * len(frame)))
    fig.update_layout(hovermode="y unified")
    fig.update_xaxes(tickprefix="$", tickformat="~s")
    fig.update_yaxes(automargin=True)
    return fig


def top_portfolios_bar(frame: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Horizontal bars of the top portfolios' totals (``revenue.top_portfolios``)."""
    if frame.empty:
        return empty_figure("Nothing in this period")
    ordered = frame.sort_values("total")
    labels = [f"{p} · {n}" if isinstance(n, str) and n and n != p else str(p)
              for p, n in zip(ordered["portfolio_id"], ordered["name"], strict=True)]
    fig = go.Figure(go.Bar(y=labels, x=ordered["total"], orientation="h", marker_color=theme.MONEY_COLOURS["Distribution Fee"],
                           hovertemplate="%{y}: $%{x:,.2f}<extra></extra>"))
    fig = _layout(fig, title, height=max(260, 60 + 26 * len(frame)), legend=False)
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(tickprefix="$", tickformat="~s")
    return fig


def _line_mode(points: pd.DataFrame) -> str:
    """Lines, with a marker on each month when there are few (a single month still shows)."""
    return "lines+markers" if len(points) <= 36 else "lines"


def _party_name(party: str, role: str) -> str:
    return f"{party} (assignee)" if role == "assignee" else party


def fee_share_chart(frame: pd.DataFrame, events: pd.DataFrame | None = None, mode: str = "percent",
                    title: str | None = None) -> go.Figure:
    """Each party's part of the Distribution Fee over time (``shares.distribution_fee_shares``).

    ``mode="percent"``: lines of the fraction of each month's fee;
    ``mode="dollars"``: stacked bars of the dollars.
    """
    frame = frame[frame["fee_share"].notna()]
    if frame.empty:
        return empty_figure("No Distribution Fee in this period")
    fig = go.Figure()
    for (party, role), g in frame.groupby(["party", "role"], sort=True):
        name = _party_name(party, role)
        colour = theme.party_colour(party)
        if mode == "dollars":
            fig.add_bar(x=g["month_end"], y=g["distribution_fee"], name=name, marker_color=colour,
                        customdata=g[["fee_share"]].to_numpy(),
                        hovertemplate=f"{name}: $%{{y:,.2f}} (%{{customdata[0]:.2%}})<extra></extra>")
        else:
            fig.add_scatter(x=g["month_end"], y=g["fee_share"], name=name, mode=_line_mode(g), marker={"size": 5},
                            line={"color": colour, "width": 2,
                            "dash": "dot" if role == "assignee" else "solid", "shape": "hv"},
                            customdata=g[["distribution_fee"]].to_numpy(),
                            hovertemplate=f"{name}: %{{y:.2%}} ($%{{customdata[0]:,.2f}})<extra></extra>")
    if mode == "dollars":
        fig.update_layout(barmode="relative")
    fig = _layout(fig, title, height=420, money=mode == "dollars", percent=mode != "dollars")
    _focus(fig, frame["month_end"])
    _month_axis(fig, frame["month_end"])
    return add_events(fig, events if events is not None else pd.DataFrame())


def twelve_b1_chart(frame: pd.DataFrame, events: pd.DataFrame | None = None, title: str | None = None) -> go.Figure:
    """The rights holders' 12b-1 Share S_h(m) over time (``shares.twelve_b1_shares``)."""
    if frame.empty:
        return empty_figure("No 12b-1 Share in this period")
    fig = go.Figure()
    for holder, g in frame.groupby("rights_holder", sort=True):
        fig.add_scatter(x=g["month_end"], y=g["share"], name=holder, mode=_line_mode(g), marker={"size": 5},
                        line={"color": theme.party_colour(holder), "width": 2, "shape": "hv"},
                        customdata=g[["attributed_shares"]].to_numpy(),
                        hovertemplate=f"{holder}: %{{y:.2%}} (%{{customdata[0]:,.6f}} shares)<extra></extra>")
    fig = _month_axis(_layout(fig, title, height=340, percent=True), frame["month_end"])
    return add_events(fig, events if events is not None else pd.DataFrame())


def assignee_portions_chart(stream: pd.DataFrame, party: str, title: str | None = None) -> go.Figure:
    """The assignee's monthly 12b-1 and CDSC Portions (``collateral.assignee_stream``)."""
    if stream.empty or (stream["total"] == 0).all():
        return empty_figure("No Portions received yet")
    colour = theme.party_colour(party)
    fig = go.Figure()
    fig.add_bar(x=stream["month_end"], y=stream["distribution_fee"], name="12b-1 Portion", marker_color=colour,
                hovertemplate="12b-1 Portion $%{y:,.2f}<extra></extra>")
    fig.add_bar(x=stream["month_end"], y=stream["cdsc"], name="CDSC Portion", marker_color=theme.MONEY_COLOURS["CDSC"],
                hovertemplate="CDSC Portion $%{y:,.2f}<extra></extra>")
    fig.update_layout(barmode="relative")
    return _month_axis(_layout(fig, title, money=True), stream["month_end"])


def payback_chart(curve: pd.DataFrame, price: float | None, party: str, title: str | None = None) -> go.Figure:
    """Cumulative collections against the purchase price (``collateral.payback_curve``)."""
    if curve.empty:
        return empty_figure("No collections yet")
    fig = go.Figure()
    fig.add_scatter(x=curve["month_end"], y=curve["cumulative"], name="Collected to date",
                    mode="lines" if len(curve) > 1 else "markers",
                    line={"color": theme.party_colour(party), "width": 2.5}, fill="tozeroy",
                    hovertemplate="Collected $%{y:,.2f}<extra></extra>")
    if price:
        fig.add_scatter(x=[curve["month_end"].min(), curve["month_end"].max()], y=[price, price], name="Purchase price",
                        mode="lines", line={"color": "#c00000", "dash": "dash"},
                        hovertemplate=f"Purchase price ${price:,.2f}<extra></extra>")
    return _month_axis(_layout(fig, title, money=True), curve["month_end"])


def runoff_chart(frame: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Commission Shares behind the stream by issue year over time (``collateral.runoff``), stacked."""
    if frame.empty:
        return empty_figure("No Commission Shares behind this stream")
    fig = go.Figure()
    years = sorted(frame["issue_year"].astype(int).unique())
    for i, year in enumerate(years):
        g = frame[frame["issue_year"].astype(int) == year]
        colour = theme.PALETTE[i % len(theme.PALETTE)]
        fig.add_scatter(x=g["month_end"], y=g["commission_shares"], name=str(year), mode="lines", stackgroup="one",
                        line={"width": 0.5, "color": colour},
                        hovertemplate=f"issued {year}: %{{y:,.2f}} shares<extra></extra>")
    fig = _month_axis(_layout(fig, title, height=380), frame["month_end"])
    fig.update_yaxes(tickformat=",.0f", title="Commission Shares")
    fig.update_layout(legend={"title": "Issue year"})
    return fig


def omnibus_attribution_chart(series: pd.DataFrame, title: str | None = None, with_commission: bool = False) -> go.Figure:
    """F_h(m) (solid) of each rights holder in one omnibus account, and K_h(m) (dotted) if asked."""
    if series.empty:
        return empty_figure("No omnibus activity")
    fig = go.Figure()
    for holder, g in series.groupby("rights_holder", sort=True):
        colour = theme.party_colour(holder)
        fig.add_scatter(x=g["month_end"], y=g["free_shares"], name=f"{holder} Free Shares F_h", mode="lines",
                        line={"color": colour, "width": 2, "shape": "hv"},
                        hovertemplate=f"F_{holder} %{{y:,.6f}}<extra></extra>")
        if with_commission and g["commission_shares"].notna().any():
            fig.add_scatter(x=g["month_end"], y=g["commission_shares"], name=f"{holder} Commission K_h", mode="lines",
                            line={"color": colour, "width": 1.5, "dash": "dot", "shape": "hv"},
                            hovertemplate=f"K_{holder} %{{y:,.6f}}<extra></extra>")
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    fig = _month_axis(_layout(fig, title, height=360), series["month_end"])
    fig.update_yaxes(tickformat=",.2f", title="shares")
    return fig


# --- scenarios -----------------------------------------------------------------------------

BASELINE_COLOUR = "#7f7f7f"
DARK_BACKGROUND = "#0f1722"  # .streamlit/config.toml, [theme.dark] backgroundColor


def _rgba(colour: str, alpha: float) -> str:
    """``#1f4e79`` at ``alpha`` opacity, for a band's fill."""
    c = colour.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _mix(colour: str, other: str, weight: float) -> str:
    """``colour`` moved ``weight`` of the way to ``other`` (both ``#rrggbb``)."""
    a, b = colour.lstrip("#"), other.lstrip("#")
    mixed = [round(int(a[i:i + 2], 16) * (1 - weight) + int(b[i:i + 2], 16) * weight) for i in (0, 2, 4)]
    return "#" + "".join(f"{v:02x}" for v in mixed)


def ink(party: str, dark: bool = False) -> str:
    """The party's colour for a line: on a dark background a dark colour (ADI's navy) is
    lifted towards white so that it stays visible; the hue stays the party's."""
    colour = theme.party_colour(party)
    c = colour.lstrip("#")
    luminance = (0.2126 * int(c[0:2], 16) + 0.7152 * int(c[2:4], 16) + 0.0722 * int(c[4:6], 16)) / 255
    return _mix(colour, "#ffffff", 0.4) if dark and luminance < 0.3 else colour


def _history(colour: str, dark: bool) -> str:
    """The colour of the actuals before a projection: the party's, faded (towards the background)."""
    return _mix(colour, DARK_BACKGROUND if dark else "#ffffff", 0.45)


def _start_mark(fig: go.Figure, start: pd.Timestamp | None, text: str = "start") -> go.Figure:
    """A thin vertical line where the projection starts (the last actual month end)."""
    if start is not None:
        x = pd.Timestamp(start)
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", xref="x",
                      line={"color": theme.TENURE_COLOUR, "width": 1, "dash": "dot"})
        fig.add_annotation(x=x, y=1.0, xref="x", yref="paper", yanchor="bottom", showarrow=False, text=text,
                           font={"size": 10, "color": theme.TENURE_COLOUR})
    return fig


def _band(fig: go.Figure, g: pd.DataFrame, colour: str, alpha: float, name: str, legend: bool) -> None:
    fig.add_scatter(x=g["month_end"], y=g["p95"], mode="lines", line={"width": 0, "color": colour}, showlegend=False,
                    legendgroup=name, hovertemplate=f"{name} p95 $%{{y:,.2f}}<extra></extra>")
    fig.add_scatter(x=g["month_end"], y=g["p05"], mode="lines", line={"width": 0, "color": colour}, fill="tonexty",
                    fillcolor=_rgba(colour, alpha), name=f"{name} p05-p95", showlegend=legend, legendgroup=name,
                    hovertemplate=f"{name} p05 $%{{y:,.2f}}<extra></extra>")


def fan_chart(frame: pd.DataFrame, party: str, monte_carlo: bool, start: pd.Timestamp | None = None,
              title: str | None = None, height: int = 320, dark: bool = False) -> go.Figure:
    """A party's money of one kind by month (``calc.reports.scenarios.fan``): the actuals
    (faded), then the scenario in the party's colour (Monte Carlo: its median, the p05-p95
    band shaded) against the baseline, grey and dashed (its band fainter), drawn on top."""
    if frame.empty or frame[["mean", "p05", "p95"]].abs().to_numpy().sum() == 0:
        return empty_figure("None of this money, in the actuals or projected", height=height)
    colour = ink(party, dark)
    fig = go.Figure()
    actual = frame[frame["case"] == "actual"]
    scenario = frame[frame["case"] == "scenario"]
    baseline = frame[frame["case"] == "baseline"]
    centre = "p50" if monte_carlo else "mean"
    if monte_carlo:
        _band(fig, baseline, BASELINE_COLOUR, 0.12, "Baseline", False)
        _band(fig, scenario, colour, 0.22, "Scenario", True)
    if not actual.empty:
        fig.add_scatter(x=actual["month_end"], y=actual["mean"], name="Actual", mode="lines",
                        line={"color": _history(colour, dark), "width": 1.5},
                        hovertemplate="Actual $%{y:,.2f}<extra></extra>")
    fig.add_scatter(x=scenario["month_end"], y=scenario[centre], name="Scenario" + (" (median)" if monte_carlo else ""),
                    mode="lines", line={"color": colour, "width": 2.5},
                    hovertemplate="Scenario $%{y:,.2f}<extra></extra>")
    fig.add_scatter(x=baseline["month_end"], y=baseline[centre], name="Baseline" + (" (median)" if monte_carlo else ""),
                    mode="lines", line={"color": BASELINE_COLOUR, "width": 1.5, "dash": "dash"},
                    hovertemplate="Baseline $%{y:,.2f}<extra></extra>")
    fig = _layout(fig, title, height=height, money=True)
    fig.update_xaxes(tickformat="%b %Y", hoverformat="%B %Y")
    return _start_mark(fig, start)


def share_path_chart(frame: pd.DataFrame, start: pd.Timestamp | None = None, title: str | None = None,
                     dark: bool = False) -> go.Figure:
    """Each rights holder's 12b-1 Share (``calc.reports.scenarios.share_path``): the actuals
    and the scenario solid in its colour, the baseline dotted."""
    if frame.empty:
        return empty_figure("No 12b-1 Share to show")
    fig = go.Figure()
    for holder, g in frame.groupby("rights_holder", sort=True):
        colour = ink(holder, dark)
        for case, style, show in (("actual", {"width": 1.5, "color": _history(colour, dark)}, False),
                                  ("baseline", {"width": 1.5, "dash": "dot"}, False), ("scenario", {"width": 2.5}, True)):
            c = g[g["case"] == case]
            if c.empty:
                continue
            label = {"actual": f"{holder}, actual", "baseline": f"{holder}, baseline", "scenario": holder}[case]
            fig.add_scatter(x=c["month_end"], y=c["share"], name=label, mode="lines", legendgroup=holder,
                            showlegend=show, line={"color": colour, "shape": "hv", **style},
                            hovertemplate=f"{label}: %{{y:.2%}}<extra></extra>")
    fig.add_scatter(x=[None], y=[None], mode="lines", name="Baseline (dotted)",
                    line={"color": BASELINE_COLOUR, "dash": "dot", "width": 1.5}, hoverinfo="skip")
    fig = _layout(fig, title, height=360, percent=True)
    fig.update_xaxes(tickformat="%b %Y", hoverformat="%B %Y")
    return _start_mark(fig, start)


def pv_change_chart(frame: pd.DataFrame, title: str | None = None, dark: bool = False) -> go.Figure:
    """Each party's present value under the scenario beside the baseline's, horizontal bars
    (``calc.reports.scenarios.pv_by_party``)."""
    if frame.empty:
        return empty_figure("No money projected")
    ordered = frame.iloc[::-1]
    fig = go.Figure()
    fig.add_bar(y=ordered["label"], x=ordered["baseline_present_value"], name="Baseline", orientation="h",
                marker_color=BASELINE_COLOUR, opacity=0.6, hovertemplate="Baseline $%{x:,.2f}<extra></extra>")
    fig.add_bar(y=ordered["label"], x=ordered["present_value"], name="Scenario", orientation="h",
                marker_color=[ink(p, dark) for p in ordered["party"]],
                hovertemplate="Scenario $%{x:,.2f}<extra></extra>")
    fig = _layout(fig, title, height=max(220, 80 + 44 * len(frame)))
    fig.update_layout(barmode="group", hovermode="y unified", bargap=0.25)
    fig.update_xaxes(tickprefix="$", tickformat="~s")
    fig.update_yaxes(automargin=True)
    return fig


def scenario_payback_chart(curve: pd.DataFrame, price: float | None, assignee: str, start: pd.Timestamp | None = None,
                           title: str | None = None, dark: bool = False) -> go.Figure:
    """An assignee's collections to date and projected (``ScenarioPayback.curve``) against its
    purchase price: the scenario in its colour (Monte Carlo: the p05-p95 band), the
    baseline dashed grey."""
    if curve.empty:
        return empty_figure("Nothing collected or projected")
    colour = ink(assignee, dark)
    fig = go.Figure()
    scenario = curve[curve["case"] == "scenario"]
    if scenario["p05"].notna().any():
        _band(fig, scenario, colour, 0.2, "Scenario", True)
    actual = curve[curve["case"] == "actual"]
    if not actual.empty:
        fig.add_scatter(x=actual["month_end"], y=actual["cumulative"], name="Collected to date", mode="lines",
                        line={"color": colour, "width": 2.5}, fill="tozeroy", fillcolor=_rgba(colour, 0.15),
                        hovertemplate="Collected $%{y:,.2f}<extra></extra>")
    baseline = curve[curve["case"] == "baseline"]
    fig.add_scatter(x=baseline["month_end"], y=baseline["cumulative"], name="Baseline", mode="lines",
                    line={"color": BASELINE_COLOUR, "width": 1.5, "dash": "dash"},
                    hovertemplate="Baseline $%{y:,.2f}<extra></extra>")
    fig.add_scatter(x=scenario["month_end"], y=scenario["cumulative"], name="Scenario", mode="lines",
                    line={"color": colour, "width": 2.5, "dash": "dot"},
                    hovertemplate="Scenario $%{y:,.2f}<extra></extra>")
    if price:
        lo, hi = curve["month_end"].min(), curve["month_end"].max()
        fig.add_scatter(x=[lo, hi], y=[price, price], name="Purchase price", mode="lines",
                        line={"color": theme.TERMINATION_COLOUR, "dash": "dash"},
                        hovertemplate=f"Purchase price ${price:,.2f}<extra></extra>")
    fig = _layout(fig, title, height=360, money=True)
    fig.update_xaxes(tickformat="%b %Y", hoverformat="%B %Y")
    if start is not None and not actual.empty and actual["month_end"].min() < pd.Timestamp(start) - pd.DateOffset(years=3):
        # A long history would squeeze the projection: show the last three years before the start and the
        # horizon, the amounts around them (double-click shows everything).
        lo = pd.Timestamp(start) - pd.DateOffset(years=3)
        shown = curve[curve["month_end"] >= lo]
        values = pd.concat([shown["cumulative"], shown["p05"].dropna(), shown["p95"].dropna()])
        top = max(float(values.max()), float(price or 0.0))
        bottom = float(values.min())
        pad = 0.06 * max(top - bottom, 1.0)
        fig.update_xaxes(range=[lo, curve["month_end"].max() + pd.Timedelta(days=15)])
        fig.update_yaxes(range=[max(0.0, bottom - pad), top + pad])
    return _start_mark(fig, start)


def compare_streams_chart(frame: pd.DataFrame, title: str | None = None) -> go.Figure:
    """One party's money of one kind under several saved scenarios, a line each
    (``calc.reports.scenarios.compare_streams``)."""
    if frame.empty or frame["value"].abs().sum() == 0:
        return empty_figure("None of this money under these scenarios")
    fig = go.Figure()
    for i, (name, g) in enumerate(frame.groupby("scenario", sort=False)):
        fig.add_scatter(x=g["month_end"], y=g["value"], name=str(name), mode="lines",
                        line={"color": theme.PALETTE[i % len(theme.PALETTE)], "width": 2},
                        hovertemplate=f"{name} $%{{y:,.2f}}<extra></extra>")
    fig = _layout(fig, title, height=360, money=True)
    fig.update_xaxes(tickformat="%b %Y", hoverformat="%B %Y")
    return fig


def backtest_chart(frame: pd.DataFrame, title: str | None = None, dark: bool = False) -> go.Figure:
    """Model validation (``calc.scenarios.backtest.backtest``): each party's projected
    Distribution Fee (dashed) against the actual (solid), and below, the error in percent
    of the actual."""
    from plotly.subplots import make_subplots

    if frame.empty:
        return empty_figure("Nothing to compare")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    for (party, role), g in frame.groupby(["party", "role"], sort=True):
        name, colour = _party_name(party, role), ink(party, dark)
        fig.add_scatter(x=g["month_end"], y=g["actual"], name=f"{name}, actual", mode="lines", legendgroup=name,
                        line={"color": colour, "width": 2}, hovertemplate=f"{name} actual $%{{y:,.2f}}<extra></extra>",
                        row=1, col=1)
        fig.add_scatter(x=g["month_end"], y=g["projected"], name=f"{name}, projected", mode="lines", legendgroup=name,
                        line={"color": colour, "width": 2, "dash": "dash"},
                        hovertemplate=f"{name} projected $%{{y:,.2f}}<extra></extra>", row=1, col=1)
        fig.add_scatter(x=g["month_end"], y=g["error_pct"], name=f"{name}, error", mode="lines+markers",
                        legendgroup=name, showlegend=False, marker={"size": 4}, line={"color": colour, "width": 1},
                        hovertemplate=f"{name} error %{{y:+.1f}}%<extra></extra>", row=2, col=1)
    fig.add_hline(y=0, line={"color": "#999", "width": 1}, row=2, col=1)
    fig = _layout(fig, title, height=520)
    fig.update_yaxes(tickprefix="$", tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(ticksuffix="%", title={"text": "error", "font": {"size": 11}}, row=2, col=1)
    fig.update_xaxes(tickformat="%b %Y", hoverformat="%B %Y")
    return fig


def net_assets_chart(frame: pd.DataFrame, party: str, title: str | None = None) -> go.Figure:
    """The net assets behind an assignee's stream and its part of them (``collateral.stream_net_assets``)."""
    if frame.empty:
        return empty_figure("No net assets behind the stream")
    fig = go.Figure()
    fig.add_scatter(x=frame["month_end"], y=frame["net_assets"], name="Net assets behind the stream", mode="lines",
                    line={"color": theme.NET_ASSETS_COLOUR, "width": 2}, fill="tozeroy",
                    hovertemplate="Behind the stream $%{y:,.0f}<extra></extra>")
    fig.add_scatter(x=frame["month_end"], y=frame["investor_net_assets"], name=f"{party}'s part (fee fraction)",
                    mode="lines", line={"color": theme.party_colour(party), "width": 2.5},
                    hovertemplate=f"{party} $%{{y:,.0f}}<extra></extra>")
    fig = _month_axis(_layout(fig, title, height=320, money=True), frame["month_end"])
    fig.update_yaxes(tickformat="~s")
    return fig
