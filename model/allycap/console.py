"""The short summary `allycap solve` prints: costs, new capacity by region and stage (stages in
chain order), the clean share of each chain's headline commodity, and its unmet demand."""

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
    lines = [f"scenario {r.label}: {res.status}", ""]
    costs = res.tables["costs"]
    if len(costs):
        by_cat = costs.groupby("category")["present_value_musd"].sum()
        lines.append("Cost, M$ present value:")
        lines += [f"  {cat:<10} {val:>14,.1f}" for cat, val in by_cat.items() if abs(val) > 1e-6]
        lines.append(f"  {'total':<10} {res.objective:>14,.1f}")
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
            lines.append(_unmet_line("Unmet demand", mix))
        else:
            lines += [
                _unmet_line(f"Unmet demand, {h}", mix[mix["commodity"] == h]) for h in headlines
            ]
    return "\n".join(lines)


def _unmet_line(label: str, mix) -> str:
    unmet = mix["unmet_t"].sum()
    total = mix["demand_t"].sum()
    share = unmet / total if total else 0.0
    return f"{label}: {unmet:,.0f} t over all years ({share:.2%} of demand)."
