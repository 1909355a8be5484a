"""Product lists of the US tariff law 2025-2026, for ``list:NAME`` in scenario files.

Called by ``tools/build_datasets.py`` (``build_lists``); the rows land in
``tariffsim/datasets/lists.csv.gz`` and ``lists_meta.csv`` beside the 2025 lists, so a
rebuild reproduces them (``tests/test_datasets.py``).

Source: The Budget Lab at Yale, tariff-rate-tracker, commit
73abc0a290f176dcfd8cc6ec4b17d50afb5885cb (2026-06-15), ``resources/`` and
``config/policy_params.yaml`` (MIT; notice in ``tariffsim/datasets/LICENSE-budget-lab.txt``),
as copied into ``../shared/data/us_tariff_law_2026/yale_tracker_73abc0a_2026-06-15``.

Lists whose entries carry different effective dates are split by date (one list per date),
because a measure, not a list entry, carries dates in a scenario file. Only lists the law
file ``scenarios/us_law/us_tariffs_2025_2026.toml`` uses are built.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import yaml

TRACKER = Path("us_tariff_law_2026") / "yale_tracker_73abc0a_2026-06-15"
COMMIT = "73abc0a"
BY = f"list curated by The Budget Lab at Yale (tariff-rate-tracker@{COMMIT}, {{}}, MIT)"


def _digits(codes) -> list[str]:
    # one source entry has 12 digits (8505.11.0070.00): HTS codes have at most 10
    out = [re.sub(r"[^0-9]", "", str(c))[:10] for c in codes]
    return [c for c in out if c]


HTSUS_TEXT = Path("us_tariff_law_2026") / "htsus_text" / "htsus_2026rev6_chapter99.txt.gz"


def htsus_note_codes(path: Path, start: str, end: str) -> list[str]:
    """HTS codes (dddd.dd[.dd[dd]]) printed between two markers of the HTSUS chapter 99 text.

    The list pages carry page headers ("99 - III - 57"), which do not match the code pattern;
    chapter 99 headings named in the note's own sentence are dropped.
    """
    import gzip

    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    a = text.index(start)
    block = text[a + len(start): text.index(end, a)]
    codes = re.findall(r"\b\d{4}\.\d{2}(?:\.\d{2,4})?\b", block)
    return [c for c in codes if not c.startswith("9903.")]  # headings named in the note's prose


def _csv(path: Path) -> pd.DataFrame:
    text = "".join(
        line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("#")
    )
    return pd.read_csv(io.StringIO(text), dtype=str).fillna("")


def law_lists(shared: Path) -> tuple[list[tuple[str, str, str]], dict[str, tuple[str, str, str]]]:
    """Rows ``(list_name, hts_prefix, effective_date)`` and meta ``name -> (description, source, effective)``."""
    res = Path(shared) / TRACKER / "resources"
    params = yaml.safe_load((Path(shared) / TRACKER / "config" / "policy_params.yaml").read_text(encoding="utf-8"))
    rows: list[tuple[str, str, str]] = []
    meta: dict[str, tuple[str, str, str]] = {}

    def add(name: str, codes, desc: str, source: str, effective: str = "") -> None:
        codes = _digits(codes)
        if not codes:
            raise SystemExit(f"list {name} is empty")
        rows.extend((name, c, "") for c in codes)
        meta[name] = (desc, source, effective)

    # ---- IEEPA fentanyl carve-outs (Canada energy/potash 10%, Mexico potash 10%)
    fen = _csv(res / "fentanyl_carveout_products.csv")
    for cat, name, head in [
        ("energy_ca", "fentanyl_ca_energy", "9903.01.13"),
        ("potash_ca", "fentanyl_ca_potash", "9903.01.15"),
        ("potash_mx", "fentanyl_mx_potash", "9903.01.05"),
    ]:
        add(
            name,
            fen.loc[fen.category == cat, "hts8"],
            f"IEEPA fentanyl: products at the reduced 10% rate ({cat.replace('_', ' ')})",
            f"HTSUS heading {head}, US note 2; " + BY.format("resources/fentanyl_carveout_products.csv"),
        )

    # ---- Section 301 China: one list per chapter 99 heading
    s301 = _csv(res / "s301_product_lists.csv")
    labels = {
        "9903.88.01": ("s301_cn_list1", "Section 301 China list 1 (25%)", "2018-07-06"),
        "9903.88.02": ("s301_cn_list2", "Section 301 China list 2 (25%)", "2018-08-23"),
        "9903.88.03": ("s301_cn_list3", "Section 301 China list 3 (25%)", "2019-05-10"),
        "9903.88.04": ("s301_cn_list3_addl", "Section 301 China list 3 additions (25%)", "2019-05-10"),
        "9903.88.15": ("s301_cn_list4a", "Section 301 China list 4A (7.5%)", "2020-02-14"),
        "9903.91.01": (
            "s301_cn_2024_25",
            "Section 301 China four-year review increases to 25% (Sep 2024)",
            "2024-09-27",
        ),
        "9903.91.02": (
            "s301_cn_2024_50",
            "Section 301 China four-year review increases to 50% (Sep 2024)",
            "2024-09-27",
        ),
        "9903.91.03": (
            "s301_cn_2024_100",
            "Section 301 China four-year review increases to 100% (Sep 2024)",
            "2024-09-27",
        ),
        "9903.91.11": (
            "s301_cn_2025_25",
            "Section 301 China four-year review increases to 25% (Jan 2025)",
            "2025-01-01",
        ),
        "9903.91.05": (
            "s301_cn_2025_50",
            "Section 301 China four-year review increases to 50% (Jan 2025)",
            "2025-01-01",
        ),
        "9903.91.06": (
            "s301_cn_2026_25",
            "Section 301 China four-year review increases to 25% (Jan 2026)",
            "2026-01-01",
        ),
        "9903.91.07": (
            "s301_cn_2026_50",
            "Section 301 China four-year review increases to 50% (Jan 2026)",
            "2026-01-01",
        ),
        "9903.91.08": (
            "s301_cn_2026_100",
            "Section 301 China four-year review increases to 100% (Jan 2026)",
            "2026-01-01",
        ),
        "9903.92.10": ("s301_cn_sts_cranes_25", "Section 301 China ship-to-shore cranes (25%)", "2024-09-27"),
        "9903.91.12": (
            "s301_cn_chassis_100",
            "Section 301 China intermodal chassis (100%; US note 31(k))",
            "2026-11-10",
        ),
        "9903.91.14": (
            "s301_cn_cranes_100",
            "Section 301 China ship-to-shore gantry cranes (100%; US note 31(l))",
            "2026-11-10",
        ),
    }
    for head, (name, desc, eff) in labels.items():
        add(
            name,
            s301.loc[s301.ch99_code == head, "hts8"],
            desc,
            f"HTSUS heading {head} (US notes 20, 31); " + BY.format("resources/s301_product_lists.csv"),
            eff,
        )
    excl = _csv(res / "s301_exclusion_lines.csv")
    for head in ("9903.88.69", "9903.88.70"):
        add(
            f"s301_cn_excl_{head[-5:].replace('.', '_')}",
            excl.loc[excl.ch99_code == head, "hts10"],
            f"Section 301 China: HTS10 lines with product exclusions under heading {head} (window to 2026-11-09)",
            f"HTSUS heading {head}; " + BY.format("resources/s301_exclusion_lines.csv"),
            "",
        )

    # ---- Section 232 metals (steel/aluminium mill products and derivatives in chapters 72/73/76 etc.)
    mc = _csv(res / "s232_metal_chapter_products.csv")
    for metal in ("steel", "aluminum"):
        sub = mc[mc.metal_type == metal]
        add(
            f"s232_{metal}_products",
            sub["hts_prefix"],
            f"Section 232 {metal}: articles of US notes 16/19 (mill products and listed derivatives; full value)",
            "HTSUS US notes 16(a),(b),(m) and 19; Proclamations 9704/9705, 9980, 10895/10896; "
            + BY.format("resources/s232_metal_chapter_products.csv"),
            "",
        )

    # ---- Section 232 derivatives outside the metal chapters, split by date (duty on the metal content)
    der = _csv(res / "s232_derivative_products.csv")
    for (metal, eff), sub in der.groupby(["derivative_type", "effective_date"], sort=True):
        tag = "early" if not eff else eff.replace("-", "")[2:]
        add(
            f"s232_{metal}_deriv_{tag}",
            sub["hts_prefix"],
            f"Section 232 {metal} derivatives "
            + ("of the 2018-2025 lists" if not eff else f"added from {eff} (inclusions process)"),
            f"HTSUS headings {', '.join(sorted(sub.ch99_code.unique()))} "
            "(FR 2025-15819 for the 2025-08-18 inclusions); "
            + BY.format("resources/s232_derivative_products.csv"),
            eff,
        )

    # ---- copper, lumber, furniture, cabinets, MHD, buses, autos light trucks (policy_params prefixes)
    add(
        "s232_copper",
        _csv(res / "s232_copper_products.csv")["hts10"],
        "Section 232 copper: semi-finished copper and intensive derivatives (50% on the copper content)",
        "Proclamation 10962; HTSUS US note 36(b), heading 9903.78.01; "
        + BY.format("resources/s232_copper_products.csv"),
        "2025-08-01",
    )
    heads = params["section_232_headings"]
    for key, name, desc, src in [
        (
            "softwood",
            "s232_softwood_lumber",
            "Section 232 softwood timber and lumber (10%)",
            "Proclamation 10976; HTSUS US note 37, heading 9903.76.01",
        ),
        (
            "wood_furniture",
            "s232_upholstered_furniture",
            "Section 232 upholstered wooden furniture (25%)",
            "Proclamation 10976; HTSUS US note 37, heading 9903.76.02",
        ),
        (
            "kitchen_cabinets",
            "s232_kitchen_cabinets",
            "Section 232 kitchen cabinets and vanities (25%)",
            "Proclamation 10976; HTSUS US note 37, heading 9903.76.03",
        ),
        (
            "mhd_vehicles",
            "s232_mhd_trucks",
            "Section 232 medium and heavy-duty trucks and tractors (25%)",
            "Proclamation 10984; HTSUS US note 38, heading 9903.74.01",
        ),
        ("buses", "s232_buses", "Section 232 buses (10%)", "Proclamation 10984; HTSUS US note 38, heading 9903.74.02"),
    ]:
        add(
            name,
            heads[key]["prefixes"],
            desc,
            src + "; " + BY.format("config/policy_params.yaml section_232_headings"),
            "2025-10-14" if key in ("softwood", "wood_furniture", "kitchen_cabinets") else "2025-11-01",
        )
    add(
        "s232_mhd_parts",
        (res / "s232_mhd_parts.txt").read_text().split(),
        "Section 232 medium/heavy-duty truck parts (25%)",
        "Proclamation 10984; HTSUS US note 38(i), headings 9903.74.08/.09; "
        + BY.format("resources/s232_mhd_parts.txt"),
        "2025-11-01",
    )

    # ---- auto parts without the bare heading 8471 (for exemptions of "232 articles": general-purpose
    #      computers are not vehicle parts, note 33(h)(ii), so they are not 232 articles)
    parts = [c for c in (res / "s232_auto_parts.txt").read_text().split() if c != "8471"]
    add(
        "s232_parts_note33g_no8471",
        parts,
        "Section 232 auto parts (note 33(g)) without the bare heading 8471: the lines that are 232 articles",
        "HTSUS US note 33(g),(h)(ii); " + BY.format("resources/s232_auto_parts.txt"),
        "2025-05-03",
    )

    # ---- semiconductors (note 39): the listed lines, and those the tracker treats as qualifying
    semi = _csv(res / "s232_semi_products.csv")
    # the source_note column has unquoted commas: keep the first two fields
    qual = pd.DataFrame(
        [
            ln.split(",")[:2]
            for ln in (res / "semi_qualifying_shares.csv").read_text(encoding="utf-8").splitlines()[1:]
            if ln
        ],
        columns=["hts10", "qualifying_share"],
    )
    add(
        "s232_semi_lines",
        semi["hts10"],
        "Section 232 semiconductors: HTS10 lines named in US note 39",
        "HTSUS US note 39, heading 9903.79.01; " + BY.format("resources/s232_semi_products.csv"),
        "2026-01-16",
    )
    add(
        "s232_semi_qualifying",
        qual.loc[qual.qualifying_share.astype(float) > 0, "hts10"],
        "Section 232 semiconductors: lines that pass the note 39(c) technical gate "
        "(others enter under 9903.79.02 at no duty)",
        "HTSUS US note 39(c), headings 9903.79.01/.02; " + BY.format("resources/semi_qualifying_shares.csv"),
        "2026-01-16",
    )

    # ---- pharmaceuticals (note 40 / PP 11020)
    add(
        "s232_pharma",
        _csv(res / "s232_pharma_products.csv")["hts10"],
        "Section 232 pharmaceuticals: patented/branded products and ingredients (Annex I, US note 40(c))",
        "Proclamation 11020; HTSUS US note 40(c) (verify); " + BY.format("resources/s232_pharma_products.csv"),
        "2026-07-31",
    )

    # ---- 2026 metals annex regime (note 16(c)): one list per annex, split by metal and date
    ann = _csv(res / "s232_annex_products.csv")
    for (annex, metal, eff), sub in ann.groupby(["annex", "metal_type", "effective_date"], sort=True):
        suffix = "" if eff == "2026-04-06" else "_" + eff.replace("-", "")[2:]
        add(
            f"s232_annex_{annex}_{metal}{suffix}",
            sub["hts_prefix"],
            f"Section 232 metals annex {annex.upper()} ({metal}), from {eff}",
            "HTSUS US note 16(c), headings 9903.82.02-.19 (April 2026 proclamation; annex 1C PP 11032); "
            + BY.format("resources/s232_annex_products.csv"),
            eff,
        )

    # ---- Section 122 exemptions (Annex I to the Feb 2026 proclamation)
    add(
        "s122_exempt",
        _csv(res / "s122_exempt_products.csv")["hts8"],
        "Section 122 surcharge: products exempt",
        "HTSUS heading 9903.03.01 and its US note (verify); " + BY.format("resources/s122_exempt_products.csv"),
        "2026-02-24",
    )

    # ---- Section 122 civil-aircraft exemption (US note 2(aa)(iv), heading 9903.03.05), read from the HTSUS text
    add(
        "s122_exempt_civil_aircraft",
        htsus_note_codes(Path(shared) / HTSUS_TEXT, "(iv) As provided in heading 9903.03.05",
                         "(v) As provided in heading 9903.03.06"),
        "Section 122 surcharge: civil aircraft, engines, parts and simulators exempt (provisions listed; a product "
        "qualifies only as civil aircraft under general note 6)",
        "HTSUS (2026) Rev. 6, Chapter 99 Subchapter III US note 2(aa)(iv), heading 9903.03.05 (public domain)",
        "2026-02-24",
    )

    add(
        "s122_exempt_other",
        htsus_note_codes(Path(shared) / HTSUS_TEXT, "(ii) As provided in heading 9903.03.03",
                         "(iv) As provided in heading 9903.03.05"),
        "Section 122 surcharge: products exempt for other reasons than civil aircraft (notes 2(aa)(ii) and (iii))",
        "HTSUS (2026) Rev. 6, Chapter 99 Subchapter III US note 2(aa)(ii),(iii), headings 9903.03.03/.04 "
        "(public domain)",
        "2026-02-24",
    )

    # ---- Section 232 auto parts, subdivision (r): EU/JP/KR parts certified for US production (15% floor)
    add(
        "s232_subdivision_r",
        _csv(res / "s232_subdivision_r_products.csv")["hts_prefix"],
        "Section 232 auto parts of US note 33(r) (not in 33(g), chapters 72/73/76 or note 38(i)): EU, Japan, Korea "
        "15% all-in when certified for US vehicle production or repair, exempt from the metals annex",
        "HTSUS US note 33(r), headings 9903.94.44/.45/.54/.55/.64/.65; "
        + BY.format("resources/s232_subdivision_r_products.csv"),
        "2026-04-06",
    )

    # ---- IEEPA Annex II changes (exempt list of EO 14257 as amended)
    iee = _csv(res / "ieepa_exempt_products.csv")
    add(
        "annex_ii_eo14346_2025_09_08",
        iee.loc[iee.effective_date_start == "2025-09-08", "hts10"],
        "Reciprocal-duty exemptions added by EO 14346 (5 Sep 2025), from 8 Sep 2025",
        "EO 14346, Annex II as amended; HTSUS note 2(v)(iii); " + BY.format("resources/ieepa_exempt_products.csv"),
        "2025-09-08",
    )
    add(
        "annex_ii_ag_2025_11_13",
        iee.loc[iee.effective_date_start == "2025-11-13", "hts10"],
        "Agricultural products added to the reciprocal-duty exemptions (beef, coffee, fruit, ...), from 13 Nov 2025",
        "EO of 14 Nov 2025 modifying the scope of the reciprocal tariff (verify); HTSUS note 2(v)(iii); "
        + BY.format("resources/ieepa_exempt_products.csv"),
        "2025-11-13",
    )

    # ---- Brazil EO 14323 exemptions (Annex I, widened on 13 Nov 2025)
    bra = _csv(res / "country_eo_exempt_products.csv")
    bra = bra[bra.ch99_code == "9903.01.77"]
    for eff, name in [("2025-08-06", "brazil_eo_exempt_2025_08"), ("2025-11-13", "brazil_eo_exempt_2025_11")]:
        add(
            name,
            bra.loc[bra.effective_date_start == eff, "hts10"],
            f"Brazil +40% (EO 14323): products exempt from {eff}",
            "EO 14323 Annex I; HTSUS note 2(x)(iii), heading 9903.01.78; "
            + BY.format("resources/country_eo_exempt_products.csv"),
            eff,
        )

    # ---- floor exemptions (civil aircraft, generic pharma, unavailable natural resources: 'ptaap')
    flo = _csv(res / "floor_exempt_products.csv")
    for (cat, grp), sub in flo.groupby(["category", "country_group"], sort=True):
        add(
            f"floor_exempt_{cat}_{grp}",
            sub["hts8"],
            f"15% floor: {cat.replace('_', ' ')} exempt for {grp} "
            f"(from {sub.effective_date_start.iloc[0]} per the tracker)",
            f"HTSUS headings {', '.join(sorted(sub.ch99_code.unique()))}; "
            + BY.format("resources/floor_exempt_products.csv"),
            sub.effective_date_start.iloc[0],
        )

    # ---- Section 301 Brazil and forced-labor exemptions (June 2026 PROPOSALS: finals not obtained)
    add(
        "s301_brazil_exempt_proposed",
        _csv(res / "s301_brazil_exempt_products.csv")["hts8"],
        "Section 301 Brazil: exempt products as PROPOSED (June 2026); the final list (2,126 HTS8) was not obtained",
        "USTR proposal (verify); " + BY.format("resources/s301_brazil_exempt_products.csv"),
        "2026-07-22",
    )
    add(
        "s301fl_exempt_proposed",
        _csv(res / "s301fl_exempt_products.csv")["hts8"],
        "Section 301 forced labor: exempt products as PROPOSED (June 2026); final exemption lists not obtained",
        "USTR proposal (verify); " + BY.format("resources/s301fl_exempt_products.csv"),
        "2026-07-24",
    )
    return rows, meta
