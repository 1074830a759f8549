"""The short summary `allycap solve` prints: the two cost accounts (resource cost and shortage
cost, each with its categories, and the objective labelled as their sum) with the shortfall in
tonnes by sector and kind beside them, new capacity by region and stage (stages in chain order),
the clean share of each chain's headline commodity, and its unmet demand; under the status, one
line saying whether the least-cost plan is unique (`results.alternative_builds`)."""

from __future__ import annotations


def capacity_table(investments, book) -> str:
    """New capacity by region (rows) and stage (columns, in chain order), whole tonnes."""
    table = investments.pivot_table(
        index="region", columns="stage", values="new_capacity_t", aggfunc="sum", fill_value=0.0
    )
    table = table[sorted(table.columns, key=lambda s: (book.key(s), s))]
    return table.round(0).to_string()


def format_summary(r) -> str:
    """The short table printed after a solve (`r` is an `allycap.run.Run`)."""
    import pandas as pd

    from allycap.chains import StageBook

    res, d = r.results, r.data
    book = StageBook(d.chains)
    headlines = book.headlines
    lines = [f"scenario {r.label}: {res.status}"]
    # one line: is the plan the only least-cost one (results.alternative_builds)
    statement = (res.summary.get("alternative_optima") or {}).get("statement")
    if statement:
        lines.append(statement)
    lines.append("")
    costs = res.tables["costs"]
    if len(costs):
        lines += account_lines(costs, res.objective, res.tables.get("shortfall"))
        lines.append("")
    inv = res.tables["investments"]
    if len(inv):
        lines.append("New capacity, t/yr (by region and stage):")
        lines.append(capacity_table(inv, book))
        lines.append("")
    else:
        lines += ["New capacity: none built.", ""]
    mix = res.tables["supply_mix"]
    if len(mix):
        years = sorted(set(d.years))
        shown = sorted({years[0], years[len(years) // 2], years[-1]})
        sub = mix[mix["year"].isin(shown)]
        if headlines:
            sub = sub[sub["commodity"].isin(headlines)]
        if len(sub):
            table = sub.pivot_table(
                index=["commodity", "region"], columns="year", values="clean_share", aggfunc="first"
            )
            lines.append("Clean (restricted-free) share of deliveries:")
            lines.append(table.map(lambda v: "" if pd.isna(v) else f"{v:.0%}").to_string())
            lines.append("")
        demanded = set(mix.loc[mix["demand_t"] > 0, "commodity"])
        if not headlines or (len(headlines) == 1 and demanded <= set(headlines)):
            lines.append(_unmet_line("Demand not served (curtailed + unmet)", mix))
        else:
            lines += [
                _unmet_line(f"Demand not served, {h}", mix[mix["commodity"] == h])
                for h in headlines
            ]
    return "\n".join(lines)


def _unmet_line(label: str, mix) -> str:
    unmet = mix["unmet_t"].sum()
    total = mix["demand_t"].sum()
    share = unmet / total if total else 0.0
    return f"{label}: {unmet:,.0f} t over all years ({share:.2%} of demand)."


def account_lines(costs, objective: float, shortfall=None) -> list[str]:
    """The cost block: resource cost and shortage cost on lines of their own, each followed by
    its categories (in registry order), the objective labelled as their sum, and the shortfall
    in tonnes by sector and kind beside the shortage cost. Which category is in which account
    is costs.csv's `account` column, never a list written here."""
    from allycap.formulation.family import RESOURCE, SHORTAGE
    from allycap.formulation.registry import CATEGORIES

    order = {c: i for i, c in enumerate(CATEGORIES)}
    totals = costs.groupby("account")["present_value_musd"].sum()
    lines = ["Cost, M$ present value:"]
    for account, title in ((RESOURCE, "resource cost"), (SHORTAGE, "shortage cost")):
        lines.append(f"  {title:<32} {float(totals.get(account, 0.0)):>14,.1f}")
        part = costs[costs["account"] == account]
        by_cat = part.groupby("category")["present_value_musd"].sum()
        for cat in sorted(by_cat.index, key=lambda c: (order.get(c, len(order)), c)):
            if abs(by_cat[cat]) > 1e-6:
                lines.append(f"    {cat:<30} {by_cat[cat]:>14,.1f}")
    lines.append(f"  {'objective (resource + shortage)':<32} {objective:>14,.1f}")
    lines.append("Shortfall, t/yr summed over model years (curtailed and unmet):")
    lines += shortfall_lines(shortfall)
    return lines


def shortfall_lines(shortfall) -> list[str]:
    """One line per sector: tonnes by kind (as the families report them), all regions, years."""
    if shortfall is None or not len(shortfall):
        return ["  none: all demand served"]
    by = shortfall.groupby(["sector", "kind"])["tonnes"].sum()
    out = []
    for sector in by.index.get_level_values(0).unique():
        parts = [f"{kind} {q:,.0f} t" for kind, q in by[sector].items()]
        out.append(f"  {sector:<32} " + ", ".join(parts))
    return out
