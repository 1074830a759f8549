"""Random small, valid allycap inputs, as plain dicts in the YAML input format.

`instances()` is a hypothesis strategy. Each instance is tiny (2-4 regions, a chain of 2-3
commodities, 2-6 facilities, 1-3 model years) so that it solves in milliseconds, and numbers are
"nice" (integers or one decimal) so that a failing instance can be checked by hand. Every
optional feature is an independent draw that shrinks towards "absent", so hypothesis reduces a
failure to the few features that cause it. Across a few hundred instances every constraint
family of the model appears (see `features`), and some instances are infeasible by nature
(strict mode with too little capacity, a clean share no clean supply can meet, a sharing
minimum no lane can carry, ...).
"""

from __future__ import annotations

from hypothesis import strategies as st

RESTRICTED_REGION = "CHN"
FREE_REGIONS = ("USA", "CAN", "EU")
CHAIN = ("ore", "oxide", "magnet")
STAGES = ("extraction", "separation", "magnet")
PROCESS_NAMES = ("mining", "refining", "making")
# About one draw in four is True; shrinks to False (hypothesis favours small integers, so
# `integers(0, 3) == 0` would be True far more often than a quarter of the time).
RARELY = st.sampled_from([False, False, False, True])


def _pick(*values):
    """One of a few nice values; shrinks towards the first (hypothesis draws small integers far
    more often than large ones, so ranges like integers(0, 60) would mostly give 0)."""
    return st.sampled_from(values)


def _year_map(draw, calendar: list[int], value, allow_map: bool = True):
    """A scalar, or a map {year: value} with one or two calendar years inside the horizon."""
    if not allow_map or not draw(st.booleans()):
        return value(draw)
    keys = sorted(set(draw(st.lists(st.sampled_from(calendar), min_size=1, max_size=2))))
    return {y: value(draw) for y in keys}


def _selector(draw, regions: dict[str, dict]) -> list[str]:
    """A non-empty list of region ids and/or bloc names."""
    pool = sorted(regions) + sorted({r["bloc"] for r in regions.values()})
    return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))


def _group(draw, regions: dict[str, dict], markets: list[str]) -> list[str]:
    """Regions a rule is about: mostly some of the markets, else any selector."""
    if draw(st.booleans()):
        return draw(st.lists(st.sampled_from(markets), min_size=1, max_size=2, unique=True))
    return _selector(draw, regions)


def _rule_years(draw, calendar: list[int]) -> dict:
    out = {}
    if draw(st.booleans()):
        a, b = sorted(draw(st.lists(st.sampled_from(calendar), min_size=2, max_size=2)))
        if draw(st.booleans()):
            out["start"] = a
        if draw(st.booleans()):
            out["end"] = b
    return out


def _release(draw, model_years: list[int], step: int, controls: dict) -> dict:
    """A valid stockpile `release`: refill_by after the first model year (or past the horizon),
    model years before it, or an export control active in one of them."""
    refill_by = draw(st.sampled_from([*model_years[1:], model_years[-1] + step]))
    before = [y for y in model_years if y < refill_by]
    release: dict = {"refill_by": refill_by}
    usable = [
        cid
        for cid, x in sorted(controls.items())
        if any(x.get("start", y) <= y <= x.get("end", y) for y in before)
    ]
    if usable and draw(st.booleans()):
        release["during"] = [draw(st.sampled_from(usable))]
    if "during" not in release or draw(RARELY):
        release["years"] = draw(
            st.lists(st.sampled_from(before), min_size=1, max_size=2, unique=True)
        )
    if draw(st.booleans()):
        release["max_rate"] = draw(_pick(5, 0, 10, 20))
    return release


@st.composite
def instances(draw) -> dict:
    """One random small valid input dict."""
    # -- horizon and regions ----------------------------------------------------------------
    start = draw(st.sampled_from([2025, 2030]))
    n_years = draw(st.integers(1, 3))
    step = draw(_pick(1, 2, 5))
    end = start + (n_years - 1) * step
    calendar = list(range(start, end + 1))
    rate = draw(st.sampled_from([0, 0.05, 0.1, 0.03, 0.07]))

    # A focus: one family set up (at the end) so that it is likely to bind; the draws below are
    # conditioned on it where it needs a restricted chain, a third region or a tradable product.
    focus = draw(_pick(None, "sharing", "reexport", "budget", "origin", "clean", None))
    n_regions = draw(st.integers(3 if focus == "reexport" else 2, 4))
    regions = {RESTRICTED_REGION: {"bloc": "restricted"}}
    for rid in FREE_REGIONS[: n_regions - 1]:
        regions[rid] = {"bloc": draw(st.sampled_from(["allied", "partner"]))}
    region_ids = list(regions)

    inst: dict = {
        "horizon": {"start": start, "end": end, "step": step},
        "discount_rate": rate,
        "regions": regions,
    }
    restricted_choice = draw(st.sampled_from([None, None, "bloc", "id", "more"]))
    if restricted_choice == "bloc":
        inst["restricted_origins"] = ["restricted"]
    elif restricted_choice == "id":
        inst["restricted_origins"] = [RESTRICTED_REGION]
    elif restricted_choice == "more" and any(r["bloc"] == "partner" for r in regions.values()):
        # the partner bloc is restricted too
        inst["restricted_origins"] = [RESTRICTED_REGION, "partner"]

    # -- commodities and processes ------------------------------------------------------------
    n_chain = draw(st.integers(2, 3))
    chain = list(CHAIN[:n_chain])
    final = chain[-1]
    with_scrap = draw(st.booleans())
    with_recycling = with_scrap and draw(st.booleans())
    commodities: dict = {}
    priced = draw(st.booleans())
    for c in chain + (["scrap"] if with_scrap else []):
        commodities[c] = {}
        if priced:
            commodities[c]["price"] = _year_map(draw, calendar, lambda d: d(_pick(1, 2, 0.5, 3)))
    if draw(st.booleans()):
        commodities[final]["unmet_penalty"] = draw(st.sampled_from([20, 50, 5]))

    processes: dict = {}
    for i, c in enumerate(chain):
        p: dict = {"stage": STAGES[i] if i < n_chain - 1 else "magnet", "output": c}
        if i > 0:
            p["inputs"] = {chain[i - 1]: draw(_pick(1, 2, 1.5, 1.2))}
        processes[PROCESS_NAMES[i]] = p
    last = PROCESS_NAMES[n_chain - 1]
    if with_scrap:
        processes[last]["coproducts"] = {"scrap": draw(_pick(0.5, 0.2, 0.3))}
    if with_recycling:
        processes["recycling"] = {
            "stage": "recycling",
            "output": chain[-2],
            "inputs": {"scrap": draw(_pick(2, 1, 3))},
        }
    process_ids = list(processes)

    # -- facilities ---------------------------------------------------------------------------
    # The first facilities cover the chain, one per stage. Half the time they are all in the
    # restricted region and the next ones cover the chain again outside it (the usual story: a
    # cheap restricted chain, costlier clean capacity elsewhere), which makes clean-share rules,
    # export controls and origin shares bite.
    n_fac = draw(st.integers(max(2, n_chain), 5 if focus == "reexport" else 6))
    restricted_chain = focus in ("reexport", "origin", "clean") or draw(st.booleans())
    facilities: dict = {}
    for i in range(n_fac):
        if i < n_chain:
            pid = PROCESS_NAMES[i]
        elif restricted_chain and i < 2 * n_chain:
            pid = PROCESS_NAMES[i - n_chain]
        else:
            pid = draw(st.sampled_from(process_ids))
        if i < n_chain and restricted_chain:
            region = RESTRICTED_REGION
        elif i >= n_chain and restricted_chain:
            region = draw(st.sampled_from(region_ids[1:]))
        else:
            region = draw(st.sampled_from(region_ids))
        cheap = region == RESTRICTED_REGION  # the usual story: cheap restricted supply
        f: dict = {"region": region, "process": pid}
        if cheap:
            kind = draw(_pick("existing", "both", "expansion"))
        else:
            kind = draw(_pick("expansion", "existing", "both"))
        if kind in ("existing", "both"):
            f["existing"] = _year_map(draw, calendar, lambda d: d(_pick(20, 10, 40, 5, 0, 30)))
        if kind in ("expansion", "both"):
            e: dict = {
                "capex": draw(_pick(1, 0.5, 0, 2) if cheap else _pick(5, 2, 10, 1, 20, 0)),
                "lifetime": draw(_pick(10, 1, 2, 3, 5, 20)),
            }
            lead = draw(st.integers(0, end - start))
            if lead:
                e["lead_time"] = lead
            if draw(st.booleans()):
                e["earliest"] = draw(st.sampled_from(calendar))
            if draw(st.booleans()):
                e["max"] = draw(_pick(20, 10, 5, 40, 0))
            if draw(st.booleans()):
                e["ramp"] = draw(_pick(5, 10, 2.5, 20))
            f["expansion"] = e
        if draw(st.booleans()):
            f["availability"] = _year_map(draw, calendar, lambda d: d(_pick(0.8, 0.5, 0.9, 1)))
        if draw(st.booleans()):
            costs = _pick(0.2, 0.5, 0) if cheap else _pick(1, 2, 0.5, 3, 0)
            f["variable_cost"] = _year_map(draw, calendar, lambda d, costs=costs: d(costs))
        if draw(st.booleans()):
            f["fixed_om"] = draw(_pick(0.1, 0.2, 0.5, 0))
        if draw(RARELY):
            f["resource"] = draw(_pick(50, 20, 100, 10))
        ins = processes[pid].get("inputs")
        cos = processes[pid].get("coproducts")
        if cos and draw(RARELY):
            f["coproducts"] = {c: draw(_pick(0.2, 0, 1)) for c in cos}
        if ins and draw(RARELY):
            c = next(iter(ins))
            f["inputs"] = {c: draw(_pick(1.5, 1, 3, 0))}  # 0 makes it a source, tagged clean
        facilities[f"f{i}"] = f
    fac_ids = list(facilities)

    inst.update(commodities=commodities, processes=processes, facilities=facilities)

    # -- demand -------------------------------------------------------------------------------
    demand: dict = {}
    free = [r for r in region_ids if r != RESTRICTED_REGION]
    markets = draw(st.lists(st.sampled_from(free), min_size=1, max_size=3, unique=True))
    if draw(RARELY):
        markets.append(RESTRICTED_REGION)
    for r in markets:
        demand[r] = {final: _year_map(draw, calendar, lambda d: d(_pick(20, 10, 30, 5, 50, 0)))}
    if draw(RARELY):
        r = draw(st.sampled_from(region_ids))
        demand.setdefault(r, {})[chain[-2]] = draw(_pick(10, 5, 20, 0))
    inst["demand"] = demand

    # -- trade --------------------------------------------------------------------------------
    trade: dict = {"transport_cost": {}}
    for c in commodities:
        if not draw(RARELY):
            trade["transport_cost"][c] = draw(_pick(0.5, 1, 0.2, 2, 0))
    tradable = list(trade["transport_cost"])
    routes: dict = {}
    for i in range(draw(st.integers(0, 2))):
        route: dict = {}
        if draw(st.booleans()):
            route["origins"] = _selector(draw, regions)
        if draw(st.booleans()):
            route["destinations"] = _selector(draw, regions)
        if tradable and draw(st.booleans()):
            route["commodities"] = draw(
                st.lists(st.sampled_from(tradable), min_size=1, max_size=2, unique=True)
            )
        if draw(st.booleans()):
            route["allowed"] = False
        if draw(st.booleans()):
            route["transport_cost"] = draw(_pick(1, 3, 0.5, 0))
        routes[f"route{i}"] = route
    if routes:
        trade["routes"] = routes
    tariffs: dict = {}
    for i in range(draw(st.integers(0, 2))):
        tariff: dict = {}
        if draw(st.booleans()):
            tariff["origins"] = _selector(draw, regions)
        if draw(st.booleans()):
            tariff["destinations"] = _selector(draw, regions)
        if tradable and draw(st.booleans()):
            tariff["commodities"] = draw(
                st.lists(st.sampled_from(tradable), min_size=1, max_size=2, unique=True)
            )
        if priced and draw(st.booleans()):
            tariff["ad_valorem"] = _year_map(draw, calendar, lambda d: d(_pick(0.5, 0.25, 1, 0.1)))
        if draw(st.booleans()):
            tariff["per_tonne"] = _year_map(draw, calendar, lambda d: d(_pick(1, 0.5, 2)))
        tariffs[f"tariff{i}"] = tariff
    if tariffs:
        trade["tariffs"] = tariffs
    inst["trade"] = trade

    # -- independence -------------------------------------------------------------------------
    rules: dict = {}
    rule_commodities = [final, chain[-2]]
    for i in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            rule: dict = {
                "kind": "min_clean_share",
                "regions": _group(draw, regions, markets),
                "commodity": draw(st.sampled_from(rule_commodities)),
                "share": _year_map(draw, calendar, lambda d: d(_pick(0.5, 0.3, 0.8, 1, 0.2, 0))),
            }
            if draw(st.booleans()):
                rule["each_region"] = True
        else:
            rule = {
                "kind": "max_origin_share",
                "regions": _group(draw, regions, markets),
                "commodity": draw(st.sampled_from(rule_commodities)),
                "share": _year_map(draw, calendar, lambda d: d(_pick(0.5, 0.3, 0.8, 0.2, 0, 1))),
            }
            if draw(st.booleans()):
                rule["origins"] = (
                    [RESTRICTED_REGION] if draw(st.booleans()) else _selector(draw, regions)
                )
        rule.update(_rule_years(draw, calendar))
        rules[f"rule{i}"] = rule
    if rules:
        inst["independence"] = rules

    # -- export controls ----------------------------------------------------------------------
    controls: dict = {}
    for i in range(draw(_pick(0, 1, 2))):
        control: dict = {
            "origins": [RESTRICTED_REGION] if draw(st.booleans()) else _selector(draw, regions),
            "destinations": _group(draw, regions, markets),
            "commodities": draw(
                st.lists(st.sampled_from(chain[::-1]), min_size=1, max_size=2, unique=True)
            ),
        }
        if draw(st.booleans()):
            control["limit"] = _year_map(draw, calendar, lambda d: d(_pick(5, 10, 0, 20)))
        control.update(_rule_years(draw, calendar))
        controls[f"control{i}"] = control
    if controls:
        inst["export_controls"] = controls

    # -- sharing ------------------------------------------------------------------------------
    deals: dict = {}
    claimed: set[str] = set()  # a facility is in one agreement at most
    for i in range(draw(_pick(0, 1, 1, 2))):
        free_plants = [g for g in fac_ids if g not in claimed]
        if not free_plants:
            break
        first = draw(st.sampled_from(free_plants))
        host, proc = facilities[first]["region"], facilities[first]["process"]
        output = processes[proc]["output"]
        shared = [first] + [
            g
            for g in free_plants
            if g != first
            and facilities[g]["region"] == host
            and processes[facilities[g]["process"]]["output"] == output
            and draw(st.booleans())
        ]
        partners = draw(st.lists(st.sampled_from(region_ids), min_size=1, max_size=3, unique=True))
        if len(partners) < 3 and host not in partners and draw(st.booleans()):
            partners.insert(0, host)
        mms = draw(st.sampled_from([1, 0.8, 0.6, 0.5]))
        splits = {
            1: [[1]],
            2: [[0.5, 0.5], [0.6, 0.4], [1, 0]],
            3: [[0.2, 0.3, 0.5], [0.5, 0.5, 0]],
        }
        cofinance = draw(st.sampled_from(splits[len(partners)])) if draw(st.booleans()) else None
        left = 10  # tenths of the output not yet promised to a partner
        terms: dict = {}
        for j, p in enumerate(partners):
            t: dict = {}
            k = draw(_pick(*[k for k in (3, 5, 2, 1, 0) if k <= min(left, round(mms * 10))]))
            left -= k
            if k:
                t["min_share"] = k / 10
            if cofinance is not None:
                t["cofinance"] = cofinance[j]
            terms[p] = t
        agreement: dict = {"facilities": shared, "partners": terms}
        if mms != 1 or draw(st.booleans()):
            agreement["max_market_share"] = mms
        agreement.update(_rule_years(draw, calendar))
        deals[f"deal{i}"] = agreement
        claimed.update(shared)
    if deals:
        inst["sharing"] = deals

    # -- budgets ------------------------------------------------------------------------------
    budgets: dict = {}
    for i in range(draw(st.integers(0, 2))):
        b: dict = {}
        builders = sorted({f["region"] for f in facilities.values() if "expansion" in f})
        if draw(st.booleans()):
            b["payer"] = draw(st.sampled_from(builders or region_ids))
        if draw(st.booleans()):
            b["facilities"] = draw(
                st.lists(st.sampled_from(fac_ids), min_size=1, max_size=3, unique=True)
            )
        if draw(RARELY):
            b["regions"] = _selector(draw, regions)
        if draw(RARELY):
            b["stages"] = draw(
                st.lists(st.sampled_from(STAGES), min_size=1, max_size=2, unique=True)
            )
        if draw(RARELY):
            b["share"] = draw(_pick(0.5, 0.2, 1))
        which = draw(st.sampled_from(["per_year", "total", "both"]))
        if which in ("per_year", "both"):
            b["per_year"] = _year_map(draw, calendar, lambda d: d(_pick(10, 20, 50, 5, 0)))
        if which in ("total", "both"):
            b["total"] = draw(_pick(20, 50, 100, 10, 0))
        budgets[f"budget{i}"] = b
    if budgets:
        inst["budgets"] = budgets

    # -- stockpiles ---------------------------------------------------------------------------
    stockpiles: dict = {}
    places = draw(
        st.lists(
            st.tuples(st.sampled_from(region_ids), st.sampled_from(chain)),
            max_size=2,
            unique=True,
        )
    )
    for i, (r, c) in enumerate(places):
        s: dict = {"region": r, "commodity": c}
        if draw(st.booleans()):
            s["cover"] = _year_map(draw, calendar, lambda d: d(_pick(0.5, 0.2, 1, 0)))
        if draw(st.booleans()):
            s["min_level"] = _year_map(draw, calendar, lambda d: d(_pick(10, 5, 20, 0)))
        if draw(st.booleans()):
            s["initial"] = draw(_pick(20, 10, 50, 0))
            if draw(st.booleans()):
                s["initial_clean_share"] = draw(_pick(0.5, 1, 0.2, 0))
        if draw(st.booleans()):
            s["holding_cost"] = draw(_pick(0.1, 0.5, 1, 0))
        if n_years > 1 and draw(st.booleans()):
            # the reexport focus replaces the drawn controls with its own ban
            named = controls if focus != "reexport" else {}
            s["release"] = _release(draw, calendar[::step], step, named)
        stockpiles[f"stock{i}"] = s
    if stockpiles:
        inst["stockpiles"] = stockpiles

    # -- options ------------------------------------------------------------------------------
    options: dict = {}
    if not draw(RARELY):  # mostly well above the cost of building, so that rules bind
        options["unmet_penalty"] = draw(_pick(100, 30, 1000, 10))
    if draw(RARELY):
        options["retag_cost"] = draw(st.sampled_from([0, 0.1]))
    if draw(RARELY) and draw(st.booleans()):
        options["strict"] = True
    if options:
        inst["options"] = options

    # -- the focus ----------------------------------------------------------------------------
    free_markets = [r for r in markets if r != RESTRICTED_REGION]
    top = f"f{n_chain - 1}"  # the final stage of the first chain
    if focus == "sharing":
        # the host's own minimum share cannot be passed on to the other partners
        if not facilities[top].get("existing"):
            facilities[top]["existing"] = 40
        host = facilities[top]["region"]
        terms = {host: {"min_share": 0.5}}
        terms.update({m: {} for m in free_markets[:2] if m != host})
        inst["sharing"] = {"deal": {"facilities": [top], "partners": terms}}
        if draw(st.booleans()):
            inst["sharing"]["deal"]["max_market_share"] = 0.6
    elif focus == "reexport":
        # a ban on one market that a third region could dodge by passing material on
        banned = free_markets[0]
        via = next(r for r in free if r != banned)
        inst["export_controls"] = {
            "ban": {
                "origins": [RESTRICTED_REGION],
                "destinations": [banned],
                "commodities": [final],
            }
        }
        demand[banned][final] = 20
        demand.setdefault(via, {})[final] = 5
        facilities[f"f{n_fac}"] = {
            "region": via,
            "process": PROCESS_NAMES[n_chain - 1],
            "expansion": {"capex": 20, "lifetime": 10},
        }
        inst["trade"]["transport_cost"].setdefault(final, 1)
    elif focus == "budget":
        builders = sorted(
            {f["region"] for f in facilities.values() if "expansion" in f} - {RESTRICTED_REGION}
        )
        if builders:
            budget = {"payer": draw(st.sampled_from(builders))}
            budget["total" if draw(st.booleans()) else "per_year"] = draw(_pick(10, 5, 20))
            inst.setdefault("budgets", {})["focus"] = budget
            inst.setdefault("options", {})["unmet_penalty"] = 1000
    elif focus == "origin":
        demand[free_markets[0]][final] = 20
        inst["trade"]["transport_cost"].setdefault(final, 1)
        inst.setdefault("independence", {})["focus"] = {
            "kind": "max_origin_share",
            "regions": free_markets[:1],
            "commodity": final,
            "share": draw(_pick(0.5, 0.2, 0.8)),
        }
    elif focus == "clean":
        inst.setdefault("independence", {})["focus"] = {
            "kind": "min_clean_share",
            "regions": free_markets,
            "commodity": final,
            "share": draw(_pick(0.5, 0.2, 0.8)),
        }
    _draw_sectors(draw, inst, calendar, final)
    return inst


def _draw_sectors(draw, inst: dict, calendar: list[int], final: str) -> None:
    """Demand by sector, about half the time: one or two sectors with shortage costs around the
    unmet penalties drawn above, 0-2 curtailment tranches each (shares summing to at most 1,
    costs rising, at most the shortage cost), and some of the final commodity's demands split
    between them (a scalar share or a year map, its complement for the second sector)."""
    if not draw(st.booleans()):
        return
    sectors: dict = {}
    for sid in ("hi", "lo")[: draw(st.integers(1, 2))]:
        cost = float(draw(_pick(100, 20, 5, 1000)))
        sector: dict = {"shortage_cost": cost}
        n = draw(st.integers(0, 2))
        if n:
            shares = draw(_pick((0.3, 0.2), (0.5, 0.5), (0.2, 0.6), (1.0, 0.0)))[:n]
            costs = sorted(draw(st.lists(_pick(0.1, 0.5, 0.9), min_size=n, max_size=n)))
            sector["tranches"] = [
                {"share": sh, "cost": round(cost * f, 6)}
                for sh, f in zip(shares, costs, strict=True)
            ]
        sectors[sid] = sector
    split: dict = {}
    for r, per_c in inst["demand"].items():
        if final not in per_c or not draw(st.booleans()):
            continue
        if len(sectors) == 1:
            split[r] = {final: {"hi": 1.0}}
        else:
            share = _year_map(draw, calendar, lambda d: d(_pick(0.3, 0.5, 1.0, 0.0)))
            rest = (
                {y: round(1 - v, 6) for y, v in share.items()}
                if isinstance(share, dict)
                else round(1 - share, 6)
            )
            split[r] = {final: {"hi": share, "lo": rest}}
    inst["sectors"] = sectors
    if split:
        inst["demand_sectors"] = split


def features(inst: dict) -> set[str]:
    """Names of the constraint families and options an instance exercises."""
    out = set()
    years = range(inst["horizon"]["start"], inst["horizon"]["end"] + 1, inst["horizon"]["step"])
    out.add(f"years={len(years)}")
    out.add(f"step={inst['horizon']['step']}")
    for f in inst["facilities"].values():
        out.add("existing" if "existing" in f else "no_existing")
        e = f.get("expansion")
        if e:
            out.add("expansion")
            out.update(k for k in ("lead_time", "earliest", "max", "ramp") if k in e)
            lead = e.get("lead_time", 0)
            if 0 < lead < inst["horizon"]["step"]:
                out.add("lead_shorter_than_step")  # ready, and online, in its decision period
            if lead and inst["discount_rate"] and e["capex"]:
                out.add("construction_interest")  # IDC > 1
        out.update(k for k in ("availability", "variable_cost", "fixed_om", "resource") if k in f)
        if "inputs" in f:
            out.add("input_override")
        if "coproducts" in f:
            out.add("coproduct_override")
    if any("coproducts" in p for p in inst["processes"].values()):
        out.add("coproduct")
    if "recycling" in inst["processes"]:
        out.add("recycling")
    trade = inst.get("trade", {})
    if trade.get("transport_cost"):
        out.add("trade")
    for route in trade.get("routes", {}).values():
        out.add("closed_route" if route.get("allowed") is False else "route")
    for tariff in trade.get("tariffs", {}).values():
        out.update(k for k in ("ad_valorem", "per_tonne") if k in tariff)
    for rule in inst.get("independence", {}).values():
        out.add(rule["kind"] + ("_each" if rule.get("each_region") else ""))
    for control in inst.get("export_controls", {}).values():
        out.add("export_limit" if control.get("limit") else "export_ban")
    if len(inst.get("sharing", {})) > 1:
        out.add("two_agreements")
    for s in inst.get("sharing", {}).values():
        out.add("sharing")
        if any(t.get("min_share") for t in s["partners"].values()):
            out.add("sharing_min_share")
        if any(t.get("cofinance") for t in s["partners"].values()):
            out.add("sharing_cofinance")
        if s.get("max_market_share", 1) < 1:
            out.add("sharing_max_market_share")
    for b in inst.get("budgets", {}).values():
        out.add("budget")
        out.update(f"budget_{k}" for k in ("payer", "facilities", "per_year", "total") if k in b)
    for s in inst.get("stockpiles", {}).values():
        out.add("stockpile")
        out.update(
            f"stock_{k}"
            for k in ("cover", "min_level", "initial", "initial_clean_share", "holding_cost")
            if k in s
        )
        release = s.get("release")
        if release:
            out.add("stock_release")
            out.update(
                f"stock_release_{k}" for k in ("during", "years", "max_rate") if k in release
            )
    options = inst.get("options", {})
    if options.get("strict"):
        out.add("strict")
    if "restricted_origins" in inst:
        out.add("restricted_origins")
        if "partner" in inst["restricted_origins"]:
            out.add("two_restricted_regions")
    if inst.get("demand_sectors"):
        out.add("sectors")
        split = {s for per_c in inst["demand_sectors"].values() for v in per_c.values() for s in v}
        if any(inst["sectors"][s].get("tranches") for s in split):
            out.add("tranches")
    if inst["discount_rate"]:
        out.add("discounted")
    return out
