"""Build the embedded datasets of ``tariffsim`` from the shared raw data folder.

Usage (from the repository root)::

    .venv/bin/python tools/build_datasets.py                 # reads ../shared/data
    .venv/bin/python tools/build_datasets.py --shared PATH --out DIR

Reads the raw, documented sources in ``--shared`` (see each folder's SOURCE.txt) and
writes compact files into ``tariffsim/datasets/`` (or ``--out``). The output is
deterministic: gzip headers carry no timestamp and rows are sorted, so a rebuild
reproduces the committed files (``tests/test_datasets.py`` checks this).

Everything that is a judgement call lives here as a literal table: the Census country
code -> ISO3 table, the GTAP -> ICIO sector map, the HS-prefix overrides, the
elasticity mappings and the reading of the 2025 rate files. PROVENANCE.md documents
each of them.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO / ".." / "shared" / "data"
DEFAULT_OUT = REPO / "tariffsim" / "datasets"

REGION10 = ("USA", "KOR", "CHN", "JPN", "TWN", "VNM", "MEX", "CAN", "EU27", "ROW")

# --------------------------------------------------------------------------------------
# Census partner codes -> ISO 3166-1 alpha-3. Checked by eye, one line per code.
# Exceptions (documented in PROVENANCE.md): 4803 Kosovo -> XKX (user-assigned code used by
# the EU and IMF; Kosovo has no ISO code); 5082 Gaza Strip and 5083 West Bank -> PSE both.
# --------------------------------------------------------------------------------------
CENSUS_TO_ISO3: dict[int, str] = {
    1010: "GRL",  # Greenland
    1220: "CAN",  # Canada
    1610: "SPM",  # Saint Pierre and Miquelon
    2010: "MEX",  # Mexico
    2050: "GTM",  # Guatemala
    2080: "BLZ",  # Belize
    2110: "SLV",  # El Salvador
    2150: "HND",  # Honduras
    2190: "NIC",  # Nicaragua
    2230: "CRI",  # Costa Rica
    2250: "PAN",  # Panama
    2320: "BMU",  # Bermuda
    2360: "BHS",  # Bahamas
    2390: "CUB",  # Cuba
    2410: "JAM",  # Jamaica
    2430: "TCA",  # Turks and Caicos Islands
    2440: "CYM",  # Cayman Islands
    2450: "HTI",  # Haiti
    2470: "DOM",  # Dominican Republic
    2481: "AIA",  # Anguilla
    2482: "VGB",  # British Virgin Islands
    2483: "KNA",  # Saint Kitts and Nevis
    2484: "ATG",  # Antigua and Barbuda
    2485: "MSR",  # Montserrat
    2486: "DMA",  # Dominica
    2487: "LCA",  # Saint Lucia
    2488: "VCT",  # Saint Vincent and the Grenadines
    2489: "GRD",  # Grenada
    2720: "BRB",  # Barbados
    2740: "TTO",  # Trinidad and Tobago
    2774: "SXM",  # Sint Maarten
    2777: "CUW",  # Curacao
    2779: "ABW",  # Aruba
    2831: "GLP",  # Guadeloupe
    2839: "MTQ",  # Martinique
    3010: "COL",  # Colombia
    3070: "VEN",  # Venezuela
    3120: "GUY",  # Guyana
    3150: "SUR",  # Suriname
    3170: "GUF",  # French Guiana
    3310: "ECU",  # Ecuador
    3330: "PER",  # Peru
    3350: "BOL",  # Bolivia
    3370: "CHL",  # Chile
    3510: "BRA",  # Brazil
    3530: "PRY",  # Paraguay
    3550: "URY",  # Uruguay
    3570: "ARG",  # Argentina
    3720: "FLK",  # Falkland Islands (Islas Malvinas)
    4000: "ISL",  # Iceland
    4010: "SWE",  # Sweden
    4031: "SJM",  # Svalbard and Jan Mayen
    4039: "NOR",  # Norway
    4050: "FIN",  # Finland
    4091: "FRO",  # Faroe Islands
    4099: "DNK",  # Denmark, except Greenland
    4120: "GBR",  # United Kingdom
    4190: "IRL",  # Ireland
    4210: "NLD",  # Netherlands
    4231: "BEL",  # Belgium
    4239: "LUX",  # Luxembourg
    4271: "AND",  # Andorra
    4272: "MCO",  # Monaco
    4279: "FRA",  # France
    4280: "DEU",  # Germany (Federal Republic of Germany)
    4330: "AUT",  # Austria
    4351: "CZE",  # Czech Republic
    4359: "SVK",  # Slovakia
    4370: "HUN",  # Hungary
    4411: "LIE",  # Liechtenstein
    4419: "CHE",  # Switzerland
    4470: "EST",  # Estonia
    4490: "LVA",  # Latvia
    4510: "LTU",  # Lithuania
    4550: "POL",  # Poland
    4621: "RUS",  # Russia
    4622: "BLR",  # Belarus
    4623: "UKR",  # Ukraine
    4631: "ARM",  # Armenia
    4632: "AZE",  # Azerbaijan
    4633: "GEO",  # Georgia
    4634: "KAZ",  # Kazakhstan
    4635: "KGZ",  # Kyrgyzstan
    4641: "MDA",  # Moldova (Republic of Moldova)
    4642: "TJK",  # Tajikistan
    4643: "TKM",  # Turkmenistan
    4644: "UZB",  # Uzbekistan
    4700: "ESP",  # Spain
    4710: "PRT",  # Portugal
    4720: "GIB",  # Gibraltar
    4730: "MLT",  # Malta
    4751: "SMR",  # San Marino
    4752: "VAT",  # Holy See (Vatican City)
    4759: "ITA",  # Italy
    4791: "HRV",  # Croatia
    4792: "SVN",  # Slovenia
    4793: "BIH",  # Bosnia and Herzegovina
    4794: "MKD",  # North Macedonia
    4801: "SRB",  # Serbia
    4803: "XKX",  # Kosovo (not an ISO code; see above)
    4804: "MNE",  # Montenegro
    4810: "ALB",  # Albania
    4840: "GRC",  # Greece
    4850: "ROU",  # Romania
    4870: "BGR",  # Bulgaria
    4890: "TUR",  # Turkey
    4910: "CYP",  # Cyprus
    5020: "SYR",  # Syria (Syrian Arab Republic)
    5040: "LBN",  # Lebanon
    5050: "IRQ",  # Iraq
    5070: "IRN",  # Iran
    5081: "ISR",  # Israel
    5082: "PSE",  # Gaza Strip administered by Israel (shares PSE with 5083)
    5083: "PSE",  # West Bank administered by Israel (shares PSE with 5082)
    5110: "JOR",  # Jordan
    5130: "KWT",  # Kuwait
    5170: "SAU",  # Saudi Arabia
    5180: "QAT",  # Qatar
    5200: "ARE",  # United Arab Emirates
    5210: "YEM",  # Yemen (Republic of Yemen)
    5230: "OMN",  # Oman
    5250: "BHR",  # Bahrain
    5310: "AFG",  # Afghanistan
    5330: "IND",  # India
    5350: "PAK",  # Pakistan
    5360: "NPL",  # Nepal
    5380: "BGD",  # Bangladesh
    5420: "LKA",  # Sri Lanka
    5460: "MMR",  # Burma (Myanmar)
    5490: "THA",  # Thailand
    5520: "VNM",  # Vietnam
    5530: "LAO",  # Laos (Lao People's Democratic Republic)
    5550: "KHM",  # Cambodia
    5570: "MYS",  # Malaysia
    5590: "SGP",  # Singapore
    5600: "IDN",  # Indonesia
    5601: "TLS",  # Timor-Leste
    5610: "BRN",  # Brunei
    5650: "PHL",  # Philippines
    5660: "MAC",  # Macao
    5682: "BTN",  # Bhutan
    5683: "MDV",  # Maldives
    5700: "CHN",  # China
    5740: "MNG",  # Mongolia
    5790: "PRK",  # North Korea (Democratic People's Republic of Korea)
    5800: "KOR",  # South Korea (Republic of Korea)
    5820: "HKG",  # Hong Kong
    5830: "TWN",  # Taiwan
    5880: "JPN",  # Japan
    6021: "AUS",  # Australia
    6022: "NFK",  # Norfolk Island
    6023: "CCK",  # Cocos (Keeling) Islands
    6024: "CXR",  # Christmas Island (in the Indian Ocean)
    6029: "HMD",  # Heard Island and McDonald Islands
    6040: "PNG",  # Papua New Guinea
    6141: "NZL",  # New Zealand
    6142: "COK",  # Cook Islands
    6143: "TKL",  # Tokelau
    6144: "NIU",  # Niue
    6150: "WSM",  # Samoa (Western Samoa)
    6223: "SLB",  # Solomon Islands
    6224: "VUT",  # Vanuatu
    6225: "PCN",  # Pitcairn Islands
    6226: "KIR",  # Kiribati
    6227: "TUV",  # Tuvalu
    6412: "NCL",  # New Caledonia
    6413: "WLF",  # Wallis and Futuna
    6414: "PYF",  # French Polynesia
    6810: "MHL",  # Marshall Islands
    6820: "FSM",  # Micronesia, Federated States of
    6830: "PLW",  # Palau
    6862: "NRU",  # Nauru
    6863: "FJI",  # Fiji
    6864: "TON",  # Tonga
    7140: "MAR",  # Morocco
    7210: "DZA",  # Algeria
    7230: "TUN",  # Tunisia
    7250: "LBY",  # Libya
    7290: "EGY",  # Egypt
    7321: "SDN",  # Sudan
    7323: "SSD",  # South Sudan
    7380: "GNQ",  # Equatorial Guinea
    7410: "MRT",  # Mauritania
    7420: "CMR",  # Cameroon
    7440: "SEN",  # Senegal
    7450: "MLI",  # Mali
    7460: "GIN",  # Guinea
    7470: "SLE",  # Sierra Leone
    7480: "CIV",  # Cote d'Ivoire
    7490: "GHA",  # Ghana
    7500: "GMB",  # Gambia
    7510: "NER",  # Niger
    7520: "TGO",  # Togo
    7530: "NGA",  # Nigeria
    7540: "CAF",  # Central African Republic
    7550: "GAB",  # Gabon
    7560: "TCD",  # Chad
    7580: "SHN",  # Saint Helena
    7600: "BFA",  # Burkina Faso
    7610: "BEN",  # Benin
    7620: "AGO",  # Angola
    7630: "COG",  # Congo, Republic of the Congo
    7642: "GNB",  # Guinea-Bissau
    7643: "CPV",  # Cabo Verde
    7644: "STP",  # Sao Tome and Principe
    7650: "LBR",  # Liberia
    7660: "COD",  # Congo, Democratic Republic of the Congo
    7670: "BDI",  # Burundi
    7690: "RWA",  # Rwanda
    7700: "SOM",  # Somalia
    7741: "ERI",  # Eritrea
    7749: "ETH",  # Ethiopia
    7770: "DJI",  # Djibouti
    7780: "UGA",  # Uganda
    7790: "KEN",  # Kenya
    7800: "SYC",  # Seychelles
    7810: "IOT",  # British Indian Ocean Territory
    7830: "TZA",  # Tanzania (United Republic of Tanzania)
    7850: "MUS",  # Mauritius
    7870: "MOZ",  # Mozambique
    7880: "MDG",  # Madagascar
    7881: "MYT",  # Mayotte
    7890: "COM",  # Comoros
    7904: "REU",  # Reunion
    7905: "ATF",  # French Southern and Antarctic Lands
    7910: "ZAF",  # South Africa
    7920: "NAM",  # Namibia
    7930: "BWA",  # Botswana
    7940: "ZMB",  # Zambia
    7950: "SWZ",  # Eswatini
    7960: "ZWE",  # Zimbabwe
    7970: "MWI",  # Malawi
    7990: "LSO",  # Lesotho
}
ISO3_SHARED_CODES = {"PSE": (5082, 5083)}  # the only documented many-to-one case
NON_ISO_CODES = {"XKX"}

# Country names as printed in the 2025 rate files -> ISO3. "European Union" expands to
# the EU27 members of the ICIO region map; "China, including Hong Kong and Macau" to 3.
RATE_NAME_TO_ISO3: dict[str, tuple[str, ...]] = {
    "Afghanistan": ("AFG",), "Algeria": ("DZA",), "Angola": ("AGO",), "Bangladesh": ("BGD",),
    "Bolivia": ("BOL",), "Bosnia and Herzegovina": ("BIH",), "Botswana": ("BWA",),
    "Brazil": ("BRA",), "Brunei": ("BRN",), "Cambodia": ("KHM",), "Cameroon": ("CMR",),
    "Chad": ("TCD",), "China, including Hong Kong and Macau": ("CHN", "HKG", "MAC"),
    "Costa Rica": ("CRI",), "Cote d'Ivoire": ("CIV",), "Cote d`Ivoire": ("CIV",),
    "Democratic Republic of the Congo": ("COD",), "Ecuador": ("ECU",),
    "Equatorial Guinea": ("GNQ",), "Falkland Islands": ("FLK",), "Fiji": ("FJI",),
    "Ghana": ("GHA",), "Guyana": ("GUY",), "Iceland": ("ISL",), "India": ("IND",),
    "Indonesia": ("IDN",), "Iraq": ("IRQ",), "Israel": ("ISR",), "Japan": ("JPN",),
    "Jordan": ("JOR",), "Kazakhstan": ("KAZ",), "Laos": ("LAO",), "Lesotho": ("LSO",),
    "Libya": ("LBY",), "Liechtenstein": ("LIE",), "Madagascar": ("MDG",), "Malawi": ("MWI",),
    "Malaysia": ("MYS",), "Mauritius": ("MUS",), "Moldova": ("MDA",), "Mozambique": ("MOZ",),
    "Myanmar (Burma)": ("MMR",), "Namibia": ("NAM",), "Nauru": ("NRU",),
    "New Zealand": ("NZL",), "Nicaragua": ("NIC",), "Nigeria": ("NGA",),
    "North Macedonia": ("MKD",), "Norway": ("NOR",), "Pakistan": ("PAK",),
    "Papua New Guinea": ("PNG",), "Philippines": ("PHL",), "Serbia": ("SRB",),
    "South Africa": ("ZAF",), "South Korea": ("KOR",), "Sri Lanka": ("LKA",),
    "Switzerland": ("CHE",), "Syria": ("SYR",), "Taiwan": ("TWN",), "Thailand": ("THA",),
    "Trinidad and Tobago": ("TTO",), "Tunisia": ("TUN",), "Turkey": ("TUR",),
    "Uganda": ("UGA",), "United Kingdom": ("GBR",), "Vanuatu": ("VUT",),
    "Venezuela": ("VEN",), "Vietnam": ("VNM",), "Zambia": ("ZMB",), "Zimbabwe": ("ZWE",),
}

# --------------------------------------------------------------------------------------
# GTAP 10 sectors (65; the 57-sector GTAP 9 list plus the splits oxt, chm/bph/rpp, eeq,
# and services) -> the 28 ICIO sectors. Services all go to SERV.
# --------------------------------------------------------------------------------------
GTAP_TO_ICIO: list[tuple[str, str, str]] = [
    ("pdr", "Paddy rice", "A01"),
    ("wht", "Wheat", "A01"),
    ("gro", "Cereal grains nec", "A01"),
    ("v_f", "Vegetables, fruit, nuts", "A01"),
    ("osd", "Oil seeds", "A01"),
    ("c_b", "Sugar cane, sugar beet", "A01"),
    ("pfb", "Plant-based fibers", "A01"),
    ("ocr", "Crops nec", "A01"),
    ("ctl", "Bovine cattle, sheep and goats, horses", "A01"),
    ("oap", "Animal products nec", "A01"),
    ("rmk", "Raw milk", "A01"),
    ("wol", "Wool, silk-worm cocoons", "A01"),
    ("frs", "Forestry", "A02"),
    ("fsh", "Fishing", "A03"),
    ("coa", "Coal", "B05"),
    ("oil", "Oil", "B06"),
    ("gas", "Gas", "B06"),
    ("oxt", "Other extraction (minerals nec)", "B08"),
    ("cmt", "Bovine meat products", "C10T12"),
    ("omt", "Meat products nec", "C10T12"),
    ("vol", "Vegetable oils and fats", "C10T12"),
    ("mil", "Dairy products", "C10T12"),
    ("pcr", "Processed rice", "C10T12"),
    ("sgr", "Sugar", "C10T12"),
    ("ofd", "Food products nec", "C10T12"),
    ("b_t", "Beverages and tobacco products", "C10T12"),
    ("tex", "Textiles", "C13T15"),
    ("wap", "Wearing apparel", "C13T15"),
    ("lea", "Leather products", "C13T15"),
    ("lum", "Wood products", "C16"),
    ("ppp", "Paper products, publishing", "C17_18"),
    ("p_c", "Petroleum, coal products", "C19"),
    ("chm", "Chemical products", "C20"),
    ("bph", "Basic pharmaceutical products", "C21"),
    ("rpp", "Rubber and plastic products", "C22"),
    ("nmm", "Mineral products nec", "C23"),
    ("i_s", "Ferrous metals", "C24A"),
    ("nfm", "Metals nec", "C24B"),
    ("fmp", "Metal products", "C25"),
    ("ele", "Computer, electronic and optical products", "C26"),
    ("eeq", "Electrical equipment", "C27"),
    ("ome", "Machinery and equipment nec", "C28"),
    ("mvh", "Motor vehicles and parts", "C29"),
    ("otn", "Transport equipment nec", "C302T309"),
    ("omf", "Manufactures nec", "C31T33"),
    ("ely", "Electricity", "SERV"),
    ("gdt", "Gas manufacture, distribution", "SERV"),
    ("wtr", "Water", "SERV"),
    ("cns", "Construction", "SERV"),
    ("trd", "Trade", "SERV"),
    ("afs", "Accommodation, food and service activities", "SERV"),
    ("otp", "Transport nec", "SERV"),
    ("wtp", "Water transport", "SERV"),
    ("atp", "Air transport", "SERV"),
    ("whs", "Warehousing and support activities", "SERV"),
    ("cmn", "Communication", "SERV"),
    ("ofi", "Financial services nec", "SERV"),
    ("ins", "Insurance", "SERV"),
    ("rsa", "Real estate activities", "SERV"),
    ("obs", "Business services nec", "SERV"),
    ("ros", "Recreational and other services", "SERV"),
    ("osg", "Public administration and defence", "SERV"),
    ("edu", "Education", "SERV"),
    ("hht", "Human health and social work activities", "SERV"),
    ("dwe", "Dwellings", "SERV"),
]

# HS-prefix overrides where GTAP is coarser than ICIO. Longest matching prefix wins and
# beats the GTAP default. (hs_prefix, icio_sector, reason)
HS_OVERRIDES: list[tuple[str, str, str]] = [
    ("89", "C301", "ships and boats (ISIC 301); GTAP otn lumps them with other transport equipment"),
    ("86", "C302T309", "railway locomotives and rolling stock (ISIC 302); explicit, GTAP otn"),
    ("8609", "C29", "freight containers (ISIC 2920 bodies, trailers and containers); GTAP mvh"),
    ("88", "C302T309", "aircraft, spacecraft and parts (ISIC 303) incl. 8805 that GTAP puts in ome"),
    ("8710", "C302T309", "tanks and armoured fighting vehicles (ISIC 304 military vehicles)"),
    ("8711", "C302T309", "motorcycles (ISIC 3091)"),
    ("8712", "C302T309", "bicycles (ISIC 3092)"),
    ("8713", "C302T309", "carriages for disabled persons (ISIC 3092)"),
    ("8714", "C302T309", "parts of motorcycles, bicycles, invalid carriages (ISIC 309)"),
    ("8715", "C302T309", "baby carriages (ISIC 3092)"),
    ("870120", "C29", "road tractors for semi-trailers (ISIC 2910); GTAP puts all of 8701 in ome"),
    ("26", "B07", "metal ores and concentrates (ISIC 07); GTAP oxt lumps them with other minerals (B08)"),
    ("2618", "C24A", "granulated slag from iron and steel (ISIC 2410 by-product); GTAP i_s"),
    ("2619", "C24A", "slag and dross from iron and steel (ISIC 2410 by-product); GTAP i_s"),
    ("2620", "C24B", "ash and residues containing metals (non-ferrous); GTAP nfm"),
    ("2621", "B08", "other slag and ash (not a metal ore); GTAP oxt default kept"),
    ("2716", "SERV", "electricity (ICIO D35 is part of SERV); GTAP ely"),
    ("9017", "C26", "drawing and measuring instruments (ISIC 2651); GTAP puts some in ome"),
    ("91", "C26", "clocks and watches (ISIC 2652); incl. 9113 straps GTAP puts in lea"),
]

# --------------------------------------------------------------------------------------
# Elasticity mappings to ICIO 28 (other than the shared proposed CP/FGO mapping).
# Each entry: icio sector -> list of source sector names (simple mean if several) or
# ("proxy", [...]) when the source has no estimate for that ISIC activity.
# --------------------------------------------------------------------------------------
SHAPIRO_MAP = {
    "A01": ["Agriculture, forestry"], "A02": ["Agriculture, forestry"],
    "A03": ["Agriculture, forestry"],
    "B05": ["Mining"], "B06": ["Mining"], "B07": ["Mining"], "B08": ["Mining"], "B09": ["Mining"],
    "C10T12": ["Food, beverages, tobacco"], "C13T15": ["Textiles", "Apparel, leather"],
    "C16": ["Wood"], "C17_18": ["Paper, printing"], "C19": ["Petroleum, coal, minerals"],
    "C20": ["Chemicals, rubber, plastics"], "C21": ["Chemicals, rubber, plastics"],
    "C22": ["Chemicals, rubber, plastics"], "C23": ["Petroleum, coal, minerals"],
    "C24A": ["Metals"], "C24B": ["Metals"], "C25": ["Metals"],
    "C26": ["Machinery, electrical"], "C27": ["Machinery, electrical"],
    "C28": ["Machinery, electrical"], "C29": ["Transport equipment"],
    "C301": ["Transport equipment"], "C302T309": ["Transport equipment"], "C31T33": ["Other"],
}
LL_MAP = {
    "A01": ["Agriculture and Mining"], "A02": ["Agriculture and Mining"],
    "A03": ["Agriculture and Mining"], "B05": ["Agriculture and Mining"],
    "B06": ["Agriculture and Mining"], "B07": ["Agriculture and Mining"],
    "B08": ["Agriculture and Mining"], "B09": ["Agriculture and Mining"],
    "C10T12": ["Food"], "C13T15": ["Textiles, Leather and Footwear"], "C16": ["Wood"],
    "C17_18": ["Paper"], "C19": ["Petroleum"], "C20": ["Chemicals"], "C21": ["Chemicals"],
    "C22": ["Rubber and Plastic"], "C23": ["Minerals"],
    "C24A": ["Basic and Fabricated Metals"], "C24B": ["Basic and Fabricated Metals"],
    "C25": ["Basic and Fabricated Metals"],
    "C26": ["Electrical and Optical Equipment"], "C27": ["Electrical and Optical Equipment"],
    "C28": ["Machinery"], "C29": ["Transport Equipment"], "C301": ["Transport Equipment"],
    "C302T309": ["Transport Equipment"], "C31T33": ["N.E.C. and Recycling"],
}
GYY_PROXY = "mean of the 19 GYY sectors"
GYY_MAP = {
    "A01": GYY_PROXY, "A02": GYY_PROXY, "A03": GYY_PROXY, "B05": GYY_PROXY,
    "B06": GYY_PROXY, "B07": GYY_PROXY, "B08": GYY_PROXY, "B09": GYY_PROXY,
    "C10T12": ["Food products", "Beverages and Tobacco"],
    "C13T15": ["Textiles", "Wearing apparel, except footwear", "Leather products",
               "Footwear, except rubber or plast"],
    "C16": ["Wood products, except furniture"],
    "C17_18": ["Paper and products and printing and publishing"],
    "C19": GYY_PROXY, "C20": ["Other chemicals"], "C21": ["Other chemicals"],
    "C22": ["Rubber products", "Plastic products"],
    "C23": ["Pottery, china, earthenware", "Glass and products", "Other non-metallic mineral products"],
    "C24A": ["Iron and steel"], "C24B": ("proxy", ["Iron and steel"]),
    "C25": ["Fabricated metal products"], "C26": ("proxy", ["Machinery, electric"]),
    "C27": ["Machinery, electric"], "C28": GYY_PROXY, "C29": ["Transport equipment"],
    "C301": ["Transport equipment"], "C302T309": ["Transport equipment"],
    "C31T33": ["Furniture, except metal"],
}
SERV_ASSUMED = 5.0  # Head & Mayer (2014), Handbook of International Economics vol. 4, ch. 3

PREF_PROGRAMS = {
    "KOR": ("KORUS", "korus"), "CAN": ("USMCA", "usmca"), "MEX": ("USMCA", "usmca"),
    "JPN": ("US-Japan", "japan"), "AUS": ("Australia", "australia"),
    "SGP": ("Singapore", "singapore"), "CHL": ("Chile", "chile"),
}
COLUMN2 = ("CUB", "PRK", "RUS", "BLR")
SPECIFIC_TYPES = ("specific", "compound", "compound_multi_base")
# Other US FTA partners whose preferences are NOT applied (measured in PROVENANCE.md).
UNCOVERED_FTA = {
    "Israel": ("ISR",), "Jordan": ("JOR",), "Bahrain": ("BHR",), "Morocco": ("MAR",),
    "Oman": ("OMN",), "Peru": ("PER",), "Colombia": ("COL",), "Panama": ("PAN",),
    "CAFTA-DR": ("CRI", "DOM", "SLV", "GTM", "HND", "NIC"),
}


# ------------------------------------------------------------------------------ helpers
def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV (``.csv``) or a timestamp-free gzip CSV (``.csv.gz``), LF endings."""
    text = frame.to_csv(index=False, lineterminator="\n")
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(text.encode("utf-8"))
    else:
        path.write_text(text, encoding="utf-8")


def prefix_lookup(codes: np.ndarray, table: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Longest-prefix match of each code against ``table``; returns (values, matched prefix)."""
    out = np.full(len(codes), "", dtype=object)
    matched = np.full(len(codes), "", dtype=object)
    codes = pd.Series(np.asarray(codes, dtype=str))
    for prefix in sorted(table, key=len):  # longer prefixes overwrite shorter ones
        hit = codes.str.startswith(prefix).to_numpy()
        out[hit] = table[prefix]
        matched[hit] = prefix
    return out, matched


_PCT = re.compile(r"(\d+(?:\.\d+)?)(?:\s+(\d+)/(\d+))?\s*%")


def parse_col2(text: str, mfn_adval: float) -> tuple[float, bool]:
    """Ad valorem part (decimal) and specific flag of a column 2 rate text.

    The first percentage is the ad valorem part (as for the MFN column in the derived
    table); "Free" is 0; "No change" (chapter 99 only) means the column 1 rate.
    """
    if not isinstance(text, str) or not text.strip():
        return mfn_adval, False
    t = text.strip()
    if t.lower().startswith("free"):
        return 0.0, False
    if t.lower().startswith("no change"):
        return mfn_adval, False
    has_specific = bool(re.search(r"[¢$]", t))
    m = _PCT.search(t)
    if not m:
        return 0.0, has_specific
    value = float(m.group(1))
    if m.group(2):
        value += float(m.group(2)) / float(m.group(3))
    return round(value / 100.0, 10), has_specific


# ------------------------------------------------------------------------------- builders
def build_world(shared: Path, out: Path) -> dict:
    icio = shared / "icio2022"
    long = pd.read_csv(icio / "icio2023ext_flows_2022_81x81x28_long.csv.gz")
    regions = pd.read_csv(icio / "countries_icio81_to_region10.csv")
    sectors = pd.read_csv(icio / "sectors_icio28.csv")
    countries = np.array(sorted(regions["iso3"]), dtype="U3")
    if "ROW" in countries:  # keep the rest-of-world last
        countries = np.array([c for c in countries if c != "ROW"] + ["ROW"], dtype="U3")
    sec = np.array(sectors["sector"].tolist(), dtype="U8")
    ci = {c: k for k, c in enumerate(countries)}
    si = {s: k for k, s in enumerate(sec)}
    if set(long["exporter"]) - set(ci) or set(long["importer"]) - set(ci) or set(long["sector"]) - set(si):
        raise SystemExit("ICIO long file has labels outside the region map / sector table")
    flows = np.zeros((len(countries), len(countries), len(sec)))
    flows[long["exporter"].map(ci), long["importer"].map(ci), long["sector"].map(si)] = long["value_usd_mn"]
    np.savez_compressed(out / "icio2022_flows.npz", countries=countries, sectors=sec, flows=flows)

    reg = regions.set_index("iso3").loc[list(countries)].reset_index()
    write_csv(reg[["iso3", "region10"]], out / "icio_regions.csv")
    write_csv(
        sectors.rename(columns={"sector": "code"})[["code", "icio_code", "description", "is_goods"]],
        out / "icio_sectors.csv",
    )
    # 10-region cube 2019-2022 (the only source for years before 2022)
    r10 = pd.read_csv(icio / "icio2023ext_flows_2019_2022_10reg_28sec.csv")
    years = np.array(sorted(r10["year"].unique()), dtype=np.int16)
    ri = {r: k for k, r in enumerate(REGION10)}
    yi = {int(y): k for k, y in enumerate(years)}
    cube = np.zeros((len(years), 10, 10, len(sec)))
    cube[r10["year"].map(yi), r10["exporter"].map(ri), r10["importer"].map(ri), r10["sector"].map(si)] = r10[
        "value_usd_mn"
    ]
    np.savez_compressed(
        out / "icio_region10_2019_2022.npz",
        years=years, regions=np.array(REGION10, dtype="U4"), sectors=sec, flows=cube,
    )
    return {"countries": countries, "region_of": dict(zip(reg["iso3"], reg["region10"]))}


def build_census_countries(shared: Path, out: Path, world: dict) -> pd.DataFrame:
    imp = pd.read_csv(
        shared / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz",
        usecols=["cty_code", "country"],
    ).drop_duplicates()
    missing = sorted(set(imp["cty_code"]) - set(CENSUS_TO_ISO3))
    if missing:
        raise SystemExit(f"Census codes without an ISO3 entry: {missing}")
    icio = set(world["countries"]) - {"ROW"}
    table = imp.sort_values("cty_code").rename(columns={"country": "census_name"}).reset_index(drop=True)
    table["iso3"] = table["cty_code"].map(CENSUS_TO_ISO3)
    table["icio_economy"] = np.where(table["iso3"].isin(icio), table["iso3"], "ROW")
    table["region10"] = table["icio_economy"].map(world["region_of"])
    write_csv(table[["cty_code", "census_name", "iso3", "icio_economy", "region10"]], out / "census_countries.csv")
    return table


def build_concordance(out: Path) -> None:
    write_csv(pd.DataFrame(GTAP_TO_ICIO, columns=["gtap_code", "gtap_description", "icio_sector"]),
              out / "gtap_to_icio.csv")
    write_csv(pd.DataFrame(HS_OVERRIDES, columns=["hs_prefix", "icio_sector", "reason"]),
              out / "hs_to_icio_overrides.csv")


def build_us_lines(shared: Path, out: Path, census: pd.DataFrame) -> dict:
    imp = pd.read_csv(
        shared / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz",
        dtype={"hs10": str, "gtap_code": str},
    )
    imp = imp.sort_values(["hs10", "cty_code"], kind="stable").reset_index(drop=True)
    if imp.duplicated(["hs10", "cty_code"]).any():
        raise SystemExit("duplicated (hs10, cty_code) rows in the Census file")
    hts = pd.read_csv(shared / "us_tariff_schedule_2024" / "us_hts8_mfn_fta_2024basic.csv.gz", dtype=str)
    hts = hts.set_index("hts8")
    usmca = pd.read_csv(shared / "us_usmca_shares_2024" / "usmca_product_shares_2024.csv.gz",
                        dtype={"hts10": str})

    n = len(imp)
    iso = imp["cty_code"].map(dict(zip(census["cty_code"], census["iso3"]))).to_numpy()
    # sector: GTAP default, then longest HS-prefix override
    gtap_map = {g: s for g, _, s in GTAP_TO_ICIO}
    sector = imp["gtap_code"].map(gtap_map).to_numpy(dtype=object)
    if pd.isna(sector).any():
        raise SystemExit(f"GTAP codes without an ICIO sector: {sorted(set(imp.gtap_code[pd.isna(sector)]))}")
    over, _ = prefix_lookup(imp["hs10"].to_numpy(), {p: s for p, s, _ in HS_OVERRIDES})
    sector = np.where(over != "", over, sector)

    hts8 = imp["hs10"].str[:8]
    present = hts8.isin(hts.index).to_numpy()
    row = hts.reindex(hts8)

    def num(col: str) -> np.ndarray:
        return pd.to_numeric(row[col], errors="coerce").to_numpy(dtype=float)

    mfn_type = row["mfn_type"].fillna("missing").to_numpy(dtype=object)
    mfn_raw = num("mfn_adval")
    rate_missing = ~present | np.isnan(mfn_raw)
    mfn = np.where(np.isnan(mfn_raw), 0.0, mfn_raw)
    mfn_spec = np.isin(mfn_type, SPECIFIC_TYPES)

    pref_program = np.full(n, "", dtype=object)
    pref = mfn.copy()
    pref_spec = mfn_spec.copy()
    for code, (program, col) in PREF_PROGRAMS.items():
        m = iso == code
        pref_program[m] = program
        val = num(f"{col}_adval")
        ptype = row[f"{col}_type"].fillna("").to_numpy(dtype=object)
        use = m & ~np.isnan(val)
        pref[use] = val[use]
        pref_spec[use] = np.isin(ptype[use], SPECIFIC_TYPES)
    col2_text = row["col2_text"].to_numpy(dtype=object)
    for code in COLUMN2:
        m = np.flatnonzero(iso == code)
        pref_program[m] = "column2"
        for k in m:
            pref[k], pref_spec[k] = parse_col2(col2_text[k], mfn[k])

    share_map = usmca.set_index(["hts10", "cty_code"])["usmca_share"]
    key = pd.MultiIndex.from_arrays([imp["hs10"], imp["cty_code"]])
    usmca_share = share_map.reindex(key).to_numpy(dtype=float)
    usmca_share = np.where(np.isin(iso, ["CAN", "MEX"]) & ~np.isnan(usmca_share), usmca_share, 0.0)

    base = mfn.copy()
    covered = pref_program != ""
    base[covered] = pref[covered]
    nafta = np.isin(iso, ["CAN", "MEX"])
    # base = s * usmca + (1 - s) * mfn on CAN/MEX lines
    base[nafta] = usmca_share[nafta] * pref[nafta] + (1.0 - usmca_share[nafta]) * mfn[nafta]

    def cat(values) -> tuple[np.ndarray, np.ndarray]:
        cats, codes = np.unique(np.asarray(values, dtype=str), return_inverse=True)
        return cats, codes.astype(np.int32 if len(cats) > 30000 else np.int16)

    arrays: dict[str, np.ndarray] = {}
    for name, values in [
        ("hs10", imp["hs10"]), ("hts8", hts8), ("iso3", iso), ("sector", sector),
        ("gtap_code", imp["gtap_code"]), ("mfn_type", mfn_type), ("pref_program", pref_program),
    ]:
        cats, codes = cat(values)
        width = max(1, max(len(c) for c in cats))
        arrays[f"{name}__cats"] = cats.astype(f"U{width}")
        arrays[f"{name}__codes"] = codes
    arrays["cty_code"] = imp["cty_code"].to_numpy(dtype=np.int16)
    arrays["imports_usd"] = imp["imports_usd"].to_numpy(dtype=np.float64)
    arrays["mfn_adval"] = mfn
    arrays["mfn_has_specific"] = mfn_spec
    arrays["pref_adval"] = pref
    arrays["pref_has_specific"] = pref_spec
    arrays["usmca_share"] = usmca_share
    arrays["base_rate_2024"] = base
    arrays["rate_missing"] = rate_missing
    np.savez_compressed(out / "us_lines_2024.npz", **arrays)

    v = arrays["imports_usd"]
    stats = {
        "n_rows": n,
        "total_bn": v.sum() / 1e9,
        "rate_missing_rows": int(rate_missing.sum()),
        "rate_missing_bn": v[rate_missing].sum() / 1e9,
        "no_hts8_rows": int((~present).sum()),
        "no_hts8_bn": v[~present].sum() / 1e9,
        "no_hts8_codes": sorted(set(hts8[~present])),
        "other_text_rows": int((mfn_type == "other_text").sum()),
        "other_text_bn": v[mfn_type == "other_text"].sum() / 1e9,
        "specific_share": v[mfn_spec].sum() / v.sum(),
        "specific_bn": v[mfn_spec].sum() / 1e9,
        "sector_bn": pd.Series(v, index=sector).groupby(level=0).sum().div(1e9).round(2).to_dict(),
        "trade_weighted_base": float((v * base).sum() / v.sum()),
        "trade_weighted_mfn": float((v * mfn).sum() / v.sum()),
    }
    fta = {}
    for name, codes in UNCOVERED_FTA.items():
        m = np.isin(iso, codes)
        fta[name] = (v[m].sum() / 1e9, v[m & (mfn > 0)].sum() / 1e9, (v * mfn)[m].sum() / 1e9)
    stats["uncovered_fta"] = fta
    return stats


def _tool(name: str):
    """Another script of ``tools/`` as a module (loaded by path: tools is no package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _law_lists(shared: Path):
    """The 2025-2026 law lists of ``tools/build_law_lists.py`` (loaded by path: tools is no package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_law_lists", Path(__file__).with_name("build_law_lists.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.law_lists(shared)


def build_lists(shared: Path, out: Path) -> pd.DataFrame:
    law = shared / "us_tariff_law_2025"
    rows: list[tuple[str, str, str]] = []
    a2 = pd.read_csv(law / "annexII_exempt_eo14257_2025-04-02_hts8_ONEtranscription.csv", dtype=str)
    rows += [("annex_ii_2025_04_02", c, "") for c in a2["hts8"]]
    el = pd.read_csv(law / "annexII_additions_2025-04-11_electronics_ONEtranscription.csv", dtype=str)
    rows += [("annex_ii_2025_04_11_electronics", c, "") for c in el["hts_prefix"]]
    cur = pd.read_csv(law / "annexII_exempt_htsus_2026rev6_note2v_iii_a.csv", dtype=str)
    rows += [("annex_ii_current", c, "") for c in cur["hts_nodot"]]
    autos = pd.read_csv(law / "s232_autos_parts_hts_note33.csv", dtype=str)
    for lst, name, date in [
        ("note33(b)_passenger_vehicles_light_trucks", "s232_autos_note33b", "2025-04-03"),
        ("note33(g)_auto_parts", "s232_parts_note33g", "2025-05-03"),
    ]:
        rows += [(name, c, date) for c in autos.loc[autos["list"] == lst, "hts_nodot"]]
    der = pd.read_csv(law / "s232_steel_aluminum_derivatives_YaleBudgetLab.csv", dtype=str).fillna("")
    for dtype in sorted(der["derivative_type"].unique()):
        sub = der[der["derivative_type"] == dtype]
        rows += [(f"s232_{dtype}_derivatives", c, d) for c, d in zip(sub["hts_prefix"], sub["effective_date"])]
    law_rows, law_meta = _law_lists(shared)
    rows += law_rows
    lists = pd.DataFrame(rows, columns=["list_name", "hts_prefix", "effective_date"])
    lists["hts_prefix"] = lists["hts_prefix"].str.replace(".", "", regex=False).str.strip()
    if not lists["hts_prefix"].str.fullmatch(r"\d{2,10}").all():
        raise SystemExit("non-digit HTS prefix in a list")
    lists = lists.drop_duplicates(["list_name", "hts_prefix"]).reset_index(drop=True)
    write_csv(lists, out / "lists.csv.gz")

    der_ch99 = {t: ", ".join(sorted(der.loc[der.derivative_type == t, "ch99_code"].unique()))
                for t in der["derivative_type"].unique()}
    meta = {
        "annex_ii_2025_04_02": (
            "EO 14257 Annex II: HTS8 lines exempt from the reciprocal duties (April 2, 2025 list)",
            "EO 14257 Annex II (White House PDF, Apr 2, 2025), transcription by ONE Campaign "
            "(ONEcampaign/tariff-turbulence-simulator@b6d726de, exemptions_04_02_2025.json)",
            "2025-04-05"),
        "annex_ii_2025_04_11_electronics": (
            "Electronics added to the reciprocal-duty exemptions by the April 11, 2025 memorandum "
            "(computers, smartphones, semiconductors; HS4/HS6/HS8 prefixes)",
            "Presidential memorandum of Apr 11, 2025 (Clarification of Exceptions Under EO 14257), "
            "transcription by ONE Campaign (exemptions_04_11_2025.json)",
            "2025-04-05"),
        "annex_ii_current": (
            "Current list of subheadings exempt from the reciprocal duties, HTSUS (2026) Rev. 6",
            "HTSUS (2026) Rev. 6, Chapter 99 Subchapter III US note 2(v)(iii)(a), heading 9903.01.32",
            ""),
        "s232_autos_note33b": (
            "Section 232 autos: passenger vehicles and light trucks (US note 33(b))",
            "HTSUS Ch. 99 US note 33(b), heading 9903.94.01 (Proclamation 10908, 90 FR 14705)",
            "2025-04-03"),
        "s232_parts_note33g": (
            "Section 232 auto parts (US note 33(g)); includes the whole heading 8471 as listed",
            "HTSUS Ch. 99 US note 33(g), heading 9903.94.05 (Proclamation 10908)",
            "2025-05-03"),
    }
    for t in sorted(der["derivative_type"].unique()):
        meta[f"s232_{t}_derivatives"] = (
            f"Section 232 {t} derivative products (HTS prefixes; per-entry effective dates where known)",
            f"Chapter 99 heading(s) {der_ch99[t]}; list curated by The Budget Lab at Yale "
            "(tariff-rate-tracker@8315fffd, resources/s232_derivative_products.csv, MIT)",
            "per entry (2025-08-18 for the August 2025 inclusions; blank = earlier derivative lists)")
    meta.update(law_meta)
    info = pd.DataFrame(
        [(k, d, s, e, int((lists.list_name == k).sum())) for k, (d, s, e) in meta.items()],
        columns=["list_name", "description", "legal_source", "effective", "n_entries"],
    )
    write_csv(info, out / "lists_meta.csv")
    return lists


def build_rate_tables(shared: Path, out: Path, world: dict) -> pd.DataFrame:
    law = shared / "us_tariff_law_2025"
    eu27 = sorted(k for k, v in world["region_of"].items() if v == "EU27")
    if len(eu27) != 27:
        raise SystemExit(f"EU27 map has {len(eu27)} members")

    def iso_of(name: str) -> tuple[str, ...]:
        if name == "European Union":
            return tuple(eu27)
        if name not in RATE_NAME_TO_ISO3:
            raise SystemExit(f"rate-file country {name!r} has no ISO3 entry in RATE_NAME_TO_ISO3")
        return RATE_NAME_TO_ISO3[name]

    rows = []
    apr = pd.read_csv(law / "reciprocal_eo14257_annexI_country_rates.csv")
    for r in apr.itertuples():
        for iso in iso_of(r.country):
            rows.append(("reciprocal_2025_04", r.country, iso, r.additional_duty_pct / 100, "additive",
                         f"US note 2(v)(xviii)({r.item}); headings 9903.01.43-9903.01.76",
                         "EO 14257 Annex I (90 FR 15041), as codified in HTSUS (2026) Rev. 6 Ch. 99 "
                         "US note 2(v)(xviii); effective Apr 9, 2025, terminated Aug 7, 2025",
                         ""))
    aug = pd.read_csv(law / "reciprocal_eo14326_aug2025_9903_02_rates.csv")
    floors = aug[aug["structure"].str.startswith("floor")]
    floor_heads = floors.groupby("country")["heading"].apply(lambda h: "/".join(sorted(h)))
    additive = aug[aug["structure"].str.startswith("additive")]
    src = "EO 14326 (90 FR 37963), HTSUS (2026) Rev. 6 Ch. 99 headings 9903.02.02-9903.02.88"
    for table in ("reciprocal_2025_08", "reciprocal_2025_08_07"):
        for r in additive.itertuples():
            terminated = isinstance(r.compiler_note, str) and "terminated" in r.compiler_note
            if table == "reciprocal_2025_08" and terminated and r.country in floor_heads.index:
                continue  # replaced by the floor rows below
            note = r.compiler_note if isinstance(r.compiler_note, str) else ""
            for iso in iso_of(r.country):
                rows.append((table, r.country, iso, r.additional_ad_valorem_pct / 100, "additive",
                             r.heading, src, note))
        for country, heads in floor_heads.items():
            if table == "reciprocal_2025_08_07" and country != "European Union":
                continue  # on Aug 7 only the EU had the floor; the others came later
            note = ("15% all-in inclusive of the column 1 rate (or KORUS rate for Korea); "
                    "no additional duty if that rate is >= 15%")
            for iso in iso_of(country):
                rows.append((table, country, iso, 0.15, "floor", heads, src, note))
    rt = pd.DataFrame(rows, columns=["table", "country_name", "iso3", "rate", "structure", "heading",
                                     "legal_source", "note"])
    rt["rate"] = rt["rate"].round(6)
    dup = rt.duplicated(["table", "iso3"])
    if dup.any():
        raise SystemExit(f"duplicate iso3 in rate tables: {rt[dup][['table', 'iso3']].values.tolist()}")
    write_csv(rt, out / "rate_tables.csv")
    return rt


def build_elasticities(shared: Path, out: Path, sectors: list[str]) -> pd.DataFrame:
    el = shared / "elasticities"
    prop = pd.read_csv(el / "proposed_mapping_to_icio28.csv").set_index("icio_sector")
    cp = pd.read_csv(el / "caliendo_parro_2015_table1_dispersion.csv").set_index("sector")
    sh = pd.read_csv(el / "shapiro_2016_table2_col4_IV.csv").set_index("sector")
    ll = pd.read_csv(el / "lashkaripour_lugovskyy_2023_table3.csv").set_index("sector")
    gy = pd.read_csv(el / "giri_yi_yilmazkuday_2021_table2.csv").set_index("sector")
    t = pd.DataFrame(index=pd.Index(sectors, name="sector"))
    # text columns start as object (pandas < 2.2 warns when text goes into an all-NaN float column)
    for key in ("cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021"):
        t[f"{key}_source_sector"] = pd.Series(None, index=t.index, dtype=object)
    goods = [s for s in sectors if s != "SERV"]

    def mean_of(table: pd.DataFrame, names, value: str, se: str | None):
        vals = table.loc[names, value].abs().to_numpy(dtype=float)
        # mean of k estimates; se of the mean assuming independence: sqrt(sum se^2) / k
        s = np.sqrt((table.loc[names, se].to_numpy(dtype=float) ** 2).sum()) / len(names) if se else np.nan
        return vals.mean(), s

    # cp2015: the shared proposed mapping (99% sample); C26 = mean of Office, Communication, Medical
    cp_vals, cp_se, cp_src = [], [], []
    for s in goods:
        used = prop.loc[s, "cp2015_sector_used"]
        names = ["Office", "Communication", "Medical"] if used.startswith("Office+") else [used]
        v, e = mean_of(cp, names, "theta_99pct", "se_99pct")
        if abs(v - prop.loc[s, "cp2015_theta_99pct"]) > 1e-3:
            raise SystemExit(f"CP mapping mismatch for {s}")
        cp_vals.append(round(v, 4))
        cp_se.append(round(e, 4))
        cp_src.append(" + ".join(names))
    t.loc[goods, "cp2015"] = cp_vals
    t.loc[goods, "se_cp2015"] = cp_se
    t.loc[goods, "cp2015_source_sector"] = cp_src
    t.loc[goods, "fgo2022"] = prop.loc[goods, "fgo2022_epsilon_abs"].to_numpy(dtype=float)
    t.loc[goods, "se_fgo2022"] = np.nan
    t.loc[goods, "fgo2022_source_sector"] = prop.loc[goods, "fgo2022_tiva_used"].to_numpy()

    def apply(mapping, table, value, se, key):
        proxy_mean = table[value].abs().mean()
        for s in goods:
            m = mapping[s]
            if m == GYY_PROXY:
                t.loc[s, key], t.loc[s, f"se_{key}"] = round(proxy_mean, 4), np.nan
                t.loc[s, f"{key}_source_sector"] = f"proxy: {GYY_PROXY}"
                continue
            proxy = isinstance(m, tuple)
            names = m[1] if proxy else m
            v, e = mean_of(table, names, value, se)
            t.loc[s, key], t.loc[s, f"se_{key}"] = round(v, 4), (np.nan if proxy else round(e, 4))
            t.loc[s, f"{key}_source_sector"] = ("proxy: " if proxy else "") + " + ".join(names)

    apply(SHAPIRO_MAP, sh, "theta_IV_col4", "se", "shapiro2016")
    apply(LL_MAP, ll, "sigma_k_minus_1", "se", "ll2023")
    apply(GYY_MAP, gy, "theta_SMM_PPML", "se", "gyy2021")
    for key in ("cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021"):
        t.loc["SERV", key] = SERV_ASSUMED
        t.loc["SERV", f"se_{key}"] = np.nan
        t.loc["SERV", f"{key}_source_sector"] = "assumed: Head and Mayer (2014) central value"
    t["serv_assumed"] = t.index == "SERV"
    keys = ("cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021")
    cols = [c for k in keys for c in (k, f"se_{k}")] + [f"{k}_source_sector" for k in keys] + ["serv_assumed"]
    t = t[cols].reset_index()
    write_csv(t, out / "elasticities_icio28.csv")
    return t


def list_coverage(lists: pd.DataFrame, shared: Path) -> pd.DataFrame:
    """Per list: entries that match no 2024 import line, and matched import value."""
    imp = pd.read_csv(shared / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz",
                      usecols=["hs10", "imports_usd"], dtype={"hs10": str})
    by10 = imp.groupby("hs10")["imports_usd"].sum()
    codes = by10.index.to_numpy().astype(str)
    rows = []
    for name, sub in lists.groupby("list_name", sort=False):
        hit = np.zeros(len(codes), bool)
        dead = []
        for p in sub["hts_prefix"]:
            h = np.char.startswith(codes, p)
            if not h.any():
                dead.append(p)
            hit |= h
        rows.append((name, len(sub), len(dead), by10.to_numpy()[hit].sum() / 1e9, " ".join(dead[:12])))
    return pd.DataFrame(rows, columns=["list_name", "n_entries", "n_no_import_line", "imports_bn", "examples"])


def _build_prices_data(shared: Path, out: Path) -> None:
    """The price model's BEA data, by ``tools/build_prices_data.py`` (loaded by path: tools is no package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_prices_data", Path(__file__).with_name("build_prices_data.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(shared, out)


def build(shared: Path, out: Path, report: bool = False) -> dict:
    """Build every dataset file from ``shared`` into ``out``; return measured statistics."""
    shared, out = Path(shared), Path(out)
    if not (shared / "icio2022").is_dir():
        raise SystemExit(f"{shared} does not look like the shared data folder (no icio2022/)")
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(shared, out)
    census = build_census_countries(shared, out, world)
    build_concordance(out)
    stats = build_us_lines(shared, out, census)
    _tool("build_hts2026").build(shared, out)  # the 2026 schedule on the same lines (hts2026_lines.csv.gz)
    lists = build_lists(shared, out)
    build_rate_tables(shared, out, world)
    sectors = pd.read_csv(shared / "icio2022" / "sectors_icio28.csv")["sector"].tolist()
    build_elasticities(shared, out, sectors)
    _build_prices_data(shared, out)
    if report:
        stats["lists"] = list_coverage(lists, shared)
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared raw data folder")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (package data)")
    ap.add_argument("--report", action="store_true", help="print measured statistics for PROVENANCE.md")
    args = ap.parse_args(argv)
    stats = build(args.shared, args.out, report=args.report)
    if args.report:
        buf = io.StringIO()
        for k, v in stats.items():
            if isinstance(v, pd.DataFrame):
                buf.write(f"{k}:\n{v.to_string()}\n")
            else:
                buf.write(f"{k}: {v}\n")
        sys.stdout.write(buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
