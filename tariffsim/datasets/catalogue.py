"""The catalogue of embedded files: description, source, licence, year, size."""

from __future__ import annotations

__all__ = ["datasets_info"]

_CATALOGUE = (
    (
        "icio2022_flows.npz",
        "OECD ICIO 2022 bilateral flows, 81 economies x 28 sectors incl. domestic (USD mn)",
        "OECD (2023), Inter-Country Input-Output Tables, 2023 edition",
        "OECD terms (CC BY 4.0-like); attribute OECD",
        "2022",
    ),
    (
        "icio_region10_2019_2022.npz",
        "OECD ICIO 10-region aggregate, 28 sectors, 2019-2022 (USD mn)",
        "OECD (2023), Inter-Country Input-Output Tables, 2023 edition",
        "OECD terms (CC BY 4.0-like); attribute OECD",
        "2019-2022",
    ),
    ("icio_regions.csv", "ICIO 81 economies -> 10 regions", "tariffsim", "MIT", ""),
    ("icio_sectors.csv", "ICIO 28 sectors (27 goods + SERV)", "OECD ICIO sector list", "OECD terms", ""),
    (
        "census_countries.csv",
        "Census partner code -> ISO3, ICIO economy, region",
        "US Census Bureau; tariffsim",
        "public domain / MIT",
        "2024",
    ),
    ("gtap_to_icio.csv", "GTAP 10 sectors -> ICIO 28 sectors", "tariffsim", "MIT", ""),
    ("hs_to_icio_overrides.csv", "HS-prefix overrides of the GTAP -> ICIO map", "tariffsim", "MIT", ""),
    (
        "us_lines_2024.npz",
        "US imports for consumption 2024 by HS10 x partner with MFN/FTA/USMCA base rates",
        "US Census Bureau; USITC HTS 2024 Basic; Budget Lab at Yale (GTAP tags, USMCA shares)",
        "public domain; MIT (Yale)",
        "2024",
    ),
    (
        "hts2026_lines.csv.gz",
        "2026 MFN/FTA rates and 2026 HTS10 codes of each 2024 Census HS10 code",
        "USITC HTS 2026 Rev. 10; Budget Lab at Yale (HTS concordance)",
        "public domain; MIT (Yale)",
        "2026",
    ),
    (
        "lists.csv.gz",
        "Named HTS lists: Annex II exemptions, Section 232 autos/parts/derivatives",
        "HTSUS (2026) Rev. 6 Ch. 99; EO 14257 Annex II (ONE Campaign transcription); Budget Lab at Yale",
        "public domain; MIT (Yale list)",
        "2025",
    ),
    ("lists_meta.csv", "Description and legal source of each named list", "tariffsim", "MIT", "2025"),
    (
        "rate_tables.csv",
        "US reciprocal country rates, Apr 2025 (EO 14257) and Aug 2025 (EO 14326)",
        "HTSUS (2026) Rev. 6 Ch. 99",
        "public domain",
        "2025",
    ),
    ("metal_content_hs10.csv.gz",
     "Steel, aluminium, copper and all-metal content shares of each HTS10 line's value (BEA IO)",
     "Budget Lab at Yale tariff-rate-tracker (BEA input-output tables)", "MIT (Yale)", "2017 IO"),
    ("usmca_shares_2025.csv.gz", "Share of 2025 imports from Canada / Mexico entering under USMCA, by HTS10",
     "Budget Lab at Yale tariff-rate-tracker (USITC DataWeb)", "MIT (Yale)", "2025"),
    ("fta_utilization_hs2.csv.gz", "Share of imports entering under a preference programme, HS2 x partner",
     "Budget Lab at Yale tariff-rate-tracker (Census calculated duties)", "MIT (Yale)", "2024"),
    (
        "elasticities_icio28.csv",
        "Trade elasticities by ICIO sector from five published papers",
        "Caliendo-Parro 2015; Fontagne-Guimbard-Orefice 2022; Shapiro 2016; Lashkaripour-Lugovskyy 2023; "
        "Giri-Yi-Yilmazkuday 2021",
        "facts from published papers (cite them)",
        "",
    ),
    (
        "prices_bea_2024.npz",
        "US input-output (summary), PCE bridge, PCE by income decile, household income, "
        "HS10 -> BEA commodity (prices model)",
        "BEA Input-Output Accounts 2024 and distribution of PCE; CBO household income 2021; "
        "Budget Lab at Yale HS10 concordance",
        "public domain; MIT (HS10 concordance)",
        "2024",
    ),
    (
        "prices_names.csv",
        "Names of the prices model's commodities, industries, PCE lines and groups",
        "BEA Input-Output Accounts 2024",
        "public domain",
        "2024",
    ),
)


def datasets_info() -> list[dict]:
    """One dict per embedded file: ``name``, ``description``, ``source``, ``licence``,
    ``year``, ``size`` (bytes)."""
    out = []
    from importlib import resources  # here: importlib.resources imports tempfile, shutil

    root = resources.files(__package__)
    for name, desc, src, lic, year in _CATALOGUE:
        path = root.joinpath(name)
        with path.open("rb") as fh:
            size = len(fh.read())
        out.append({"name": name, "description": desc, "source": src, "licence": lic, "year": year, "size": size})
    return out
