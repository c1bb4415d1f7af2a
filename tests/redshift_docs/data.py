"""Synthetic stand-ins for the S3 objects that the corpus' COPY statements read.

The Redshift ML documentation loads its tutorial data from public S3 buckets
(redshift-downloads, redshift-ml-multiclass, gdelt-open-data, ...).  Tests have
no network, so this module generates small, deterministic objects of the same
shape: the target table's columns in order, the COPY's format (CSV / delimited
text, delimiter, IGNOREHEADER n -> n header lines, GZIP), and the value formats of
the real data (e.g. churn is 'True.' / 'False.').  Each target column has a
learnable relation to the features, and every class of a classification target
occurs.

OBJECTS maps the exact URL written in a COPY's FROM clause to a function that
returns the object's bytes.  When the COPY names a prefix (URL ending in '/'),
PREFIX_PARTS gives the file name written under that prefix; `files()` lists the
resulting (bucket, key, function) triples and `write_all(root)` writes every
object to root/<bucket>/<key>.

Only stdlib and numpy (no COPY in the corpus reads Parquet).  Run `python data.py DIR` to write everything under DIR.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import pathlib
import sys

import numpy as np

_EPOCH = _dt.datetime(2000, 1, 1)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _lines(header: list[str] | None, rows: list[list], sep: str = ",") -> bytes:
    out = []
    if header is not None:
        out.append(sep.join(header))
    for row in rows:
        out.append(sep.join("" if v is None else str(v) for v in row))
    return ("\n".join(out) + "\n").encode("utf-8")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------
# 01_customer_churn.sql (and 08_probability_metrics.sql, 12_explain_model.sql)
# COPY customer_activity FROM 's3://redshift-downloads/redshift-ml/customer_activity/'
#   REGION 'us-east-1' IAM_ROLE default FORMAT AS CSV IGNOREHEADER 1;
# 23 columns; churn is 'True.' / 'False.'; record_date on both sides of 2020-01-01.
_STATES = [
    "KS",
    "OH",
    "NJ",
    "OK",
    "AL",
    "MA",
    "MO",
    "LA",
    "WV",
    "IN",
    "RI",
    "IA",
    "MT",
    "NY",
    "ID",
    "VT",
    "VA",
    "TX",
    "FL",
    "CO",
    "AZ",
    "SC",
    "NE",
    "WY",
    "HI",
    "IL",
    "NH",
    "GA",
    "AK",
    "MD",
]


def customer_activity() -> bytes:
    rng = _rng(101)
    n = 3000
    header = [
        "state",
        "account_length",
        "area_code",
        "phone",
        "intl_plan",
        "vmail_plan",
        "vmail_message",
        "day_mins",
        "day_calls",
        "day_charge",
        "total_charge",
        "eve_mins",
        "eve_calls",
        "eve_charge",
        "night_mins",
        "night_calls",
        "night_charge",
        "intl_mins",
        "intl_calls",
        "intl_charge",
        "cust_serv_calls",
        "churn",
        "record_date",
    ]
    state = rng.choice(_STATES, n)
    account_length = rng.integers(1, 244, n)
    area_code = rng.choice([408, 415, 510], n)
    intl_plan = rng.random(n) < 0.1
    vmail_plan = rng.random(n) < 0.27
    vmail_message = np.where(vmail_plan, rng.integers(5, 51, n), 0)
    day_mins = np.clip(rng.normal(180, 54, n), 0, 350).round(1)
    day_calls = rng.integers(40, 160, n)
    day_charge = (day_mins * 0.17).round(2)
    eve_mins = np.clip(rng.normal(200, 50, n), 0, 363).round(1)
    eve_calls = rng.integers(40, 160, n)
    eve_charge = (eve_mins * 0.085).round(2)
    night_mins = np.clip(rng.normal(200, 50, n), 23, 395).round(1)
    night_calls = rng.integers(40, 160, n)
    night_charge = (night_mins * 0.045).round(2)
    intl_mins = np.clip(rng.normal(10, 2.8, n), 0, 20).round(1)
    intl_calls = rng.integers(0, 12, n)
    intl_charge = (intl_mins * 0.27).round(2)
    total_charge = (day_charge + eve_charge + night_charge + intl_charge).round(2)
    cust_serv_calls = rng.poisson(1.5, n)
    # churn: short-lived, high daily spend accounts churn; service calls and intl plan add risk
    daily_spend = total_charge / account_length
    logit = (
        -2.6
        + 1.8 * np.log(daily_spend)
        + 0.55 * (cust_serv_calls - 1.5)
        + 1.2 * intl_plan
        + 0.012 * (day_mins - 180)
    )
    churn = rng.random(n) < _sigmoid(logit)
    start = _dt.date(2019, 1, 1)
    record_date = [start + _dt.timedelta(days=int(d)) for d in rng.integers(0, 730, n)]
    rows = []
    for i in range(n):
        rows.append(
            [
                state[i],
                account_length[i],
                area_code[i],
                f"{rng.integers(320, 430)}-{rng.integers(1000, 10000)}",
                "yes" if intl_plan[i] else "no",
                "yes" if vmail_plan[i] else "no",
                vmail_message[i],
                day_mins[i],
                day_calls[i],
                day_charge[i],
                total_charge[i],
                eve_mins[i],
                eve_calls[i],
                eve_charge[i],
                night_mins[i],
                night_calls[i],
                night_charge[i],
                intl_mins[i],
                intl_calls[i],
                intl_charge[i],
                cust_serv_calls[i],
                "True." if churn[i] else "False.",
                record_date[i].isoformat(),
            ]
        )
    return _lines(header, rows)


# --------------------------------------------------------------------------
# 02_xgboost_banknote.sql
# COPY banknoteauthentication_train FROM 's3://redshiftbucket-ml-sagemaker/banknote_authentication/train_data/'
#   IAM_ROLE default REGION 'us-west-2' IGNOREHEADER 1 CSV;   (and test_data/)
# variance, skewness, curtosis, entropy FLOAT, class INT (0 genuine / 1 forged)
def _banknote(seed: int, n: int) -> bytes:
    rng = _rng(seed)
    cls = (rng.random(n) < 0.45).astype(int)
    variance = np.where(cls == 0, rng.normal(2.3, 2.0, n), rng.normal(-1.9, 1.9, n))
    skewness = np.where(cls == 0, rng.normal(4.3, 5.1, n), rng.normal(-1.0, 5.4, n))
    curtosis = np.where(cls == 0, rng.normal(0.8, 3.2, n), rng.normal(2.1, 5.3, n))
    entropy = np.where(cls == 0, rng.normal(-1.1, 2.1, n), rng.normal(-1.2, 2.1, n))
    rows = [
        [
            f"{variance[i]:.5f}",
            f"{skewness[i]:.5f}",
            f"{curtosis[i]:.5f}",
            f"{entropy[i]:.5f}",
            cls[i],
        ]
        for i in range(n)
    ]
    return _lines(["variance", "skewness", "curtosis", "entropy", "class"], rows)


def banknote_train() -> bytes:
    return _banknote(201, 1000)


def banknote_test() -> bytes:
    return _banknote(202, 370)


# --------------------------------------------------------------------------
# 03_kmeans_clustering.sql
# COPY gdelt_data FROM 's3://gdelt-open-data/events/1979.csv' REGION 'us-east-1' IAM_ROLE default
#   CSV DELIMITER '\t';     (no header; 57 columns)
_ACTORS = [
    ("USA", "UNITED STATES", "USA", 38.0, -97.0),
    ("GBR", "UNITED KINGDOM", "GBR", 54.0, -2.0),
    ("FRA", "FRANCE", "FRA", 46.0, 2.0),
    ("RUS", "RUSSIA", "RUS", 60.0, 100.0),
    ("CHN", "CHINA", "CHN", 35.0, 105.0),
    ("IRN", "IRAN", "IRN", 32.0, 53.0),
    ("ISR", "ISRAEL", "ISR", 31.5, 34.75),
    ("EGY", "EGYPT", "EGY", 27.0, 30.0),
    ("IND", "INDIA", "IND", 20.0, 77.0),
    ("BRA", "BRAZIL", "BRA", -10.0, -55.0),
]
_ETHNIC = ["", "", "", "", "ara", "jew", "kur", "hin"]


def gdelt_1979() -> bytes:
    rng = _rng(301)
    n = 2000
    # seven groupings of (tone, event code, articles, place): cooperative/hostile events in different regions
    centers = [
        (3.5, 40, 4),
        (-6.0, 190, 12),
        (1.0, 10, 2),
        (-3.0, 110, 6),
        (5.0, 50, 3),
        (-8.0, 180, 20),
        (0.5, 20, 8),
    ]
    rows = []
    for i in range(n):
        g = int(rng.integers(0, 7))
        tone, code, arts = centers[g]
        a1 = _ACTORS[(g + int(rng.integers(0, 2))) % len(_ACTORS)]
        has2 = rng.random() < 0.8
        a2 = _ACTORS[(g * 3 + int(rng.integers(0, 3))) % len(_ACTORS)] if has2 else None
        day = int(rng.integers(0, 365))
        d = _dt.date(1979, 1, 1) + _dt.timedelta(days=day)
        sqldate = int(d.strftime("%Y%m%d"))
        avgtone = round(float(tone + rng.normal(0, 1.0)), 6)
        eventcode = int(code + rng.integers(0, 4))
        numarticles = int(max(1, arts + rng.integers(-1, 3)))
        eth = _ETHNIC[int(rng.integers(0, len(_ETHNIC)))]
        eth2 = eth if rng.random() < 0.5 else _ETHNIC[int(rng.integers(0, len(_ETHNIC)))]

        def geo(a):
            if a is None:
                return [0, "", "", "", "", "", ""]
            return [
                1,
                a[1].title(),
                a[0][:2],
                a[0][:2],
                round(a[3] + float(rng.normal(0, 2)), 4),
                round(a[4] + float(rng.normal(0, 2)), 4),
                int(rng.integers(1, 10**6)),
            ]

        g1, g2 = geo(a1), geo(a2)
        row = [
            i + 1,
            sqldate,
            sqldate // 100,
            1979,
            round(1979 + day / 365.0, 4),
            a1[0],
            a1[1],
            a1[2],
            "",
            eth,
            "",
            "",
            "",
            "",
            "",
            a2[0] if a2 else "",
            a2[1] if a2 else "",
            a2[2] if a2 else "",
            "",
            eth2 if a2 else "",
            "",
            "",
            "",
            "",
            "",
            int(rng.random() < 0.5),
            eventcode,
            eventcode,
            eventcode // 10,
            1 + g % 4,
            round(float(rng.uniform(-10, 10)), 1),
            numarticles,
            max(1, numarticles // 2),
            numarticles,
            avgtone,
        ]
        row += g1 + g2 + g1
        row += [20130203]
        assert len(row) == 57
        rows.append(row)
    return _lines(None, rows, sep="\t")


# --------------------------------------------------------------------------
# 04_regression_bike_sharing.sql: three gzip'd CSV prefixes with one header line each.
#   ridership: trip_id, trip_duration_seconds, trip_start_time, trip_stop_time, from_station_name,
#              to_station_name, from_station_id, to_station_id, user_type
#   weather:   30 columns (hourly observations, datetime_utc)
#   holiday:   holiday_date, description
# Three weeks of January 2017: hourly trip counts depend on the hour, the temperature and the day of week.
_BIKE_START = _dt.datetime(2017, 1, 1)
_BIKE_HOURS = 21 * 24
_STATIONS = [
    "Bay St / Wellesley St W",
    "Queen St W / Portland St",
    "King St W / Spadina Ave",
    "Union Station",
    "Front St W / Blue Jays Way",
    "College St / Huron St",
    "Dundas St W / Yonge St",
    "Bloor St / Brunswick Ave",
]


def _bike_weather_series():
    rng = _rng(401)
    hours = _BIKE_HOURS + 48
    base = _BIKE_START - _dt.timedelta(hours=24)
    temp = []
    precip = []
    for h in range(hours):
        t = base + _dt.timedelta(hours=h)
        daily = -4.0 + 6.0 * np.sin(2 * np.pi * (h / 24.0) / 21.0 * 3)  # slow swings over the weeks
        diurnal = 4.0 * np.sin(2 * np.pi * (t.hour - 9) / 24.0)
        temp.append(round(float(daily + diurnal + rng.normal(0, 1.0)), 1))
        precip.append(round(float(rng.exponential(1.5)) if rng.random() < 0.12 else 0.0, 1))
    return base, temp, precip


def bike_weather() -> bytes:
    base, temp, precip = _bike_weather_series()
    rng = _rng(402)
    header = [
        "longitude_x",
        "latitude_y",
        "station_name",
        "climate_id",
        "datetime_utc",
        "weather_year",
        "weather_month",
        "weather_day",
        "time_utc",
        "temp_c",
        "temp_flag",
        "dew_point_temp_c",
        "dew_point_temp_flag",
        "rel_hum",
        "rel_hum_flag",
        "precip_amount_mm",
        "precip_amount_flag",
        "wind_dir_10s_deg",
        "wind_dir_flag",
        "wind_spd_kmh",
        "wind_spd_flag",
        "visibility_km",
        "visibility_flag",
        "stn_press_kpa",
        "stn_press_flag",
        "hmdx",
        "hmdx_flag",
        "wind_chill",
        "wind_chill_flag",
        "weather",
    ]
    rows = []
    for h in range(len(temp)):
        # weather timestamps are UTC: Toronto local time + 5 hours
        t = base + _dt.timedelta(hours=h + 5)
        wc = round(temp[h] - 5, 0) if temp[h] < 0 else ""
        rows.append(
            [
                -79.4,
                43.63,
                "TORONTO CITY",
                6158355,
                t.strftime("%Y-%m-%d %H:%M:%S"),
                t.year,
                t.month,
                t.day,
                t.strftime("%H:%M"),
                f"{temp[h]:.1f}",
                "",
                f"{temp[h] - 3:.1f}",
                "",
                int(rng.integers(50, 95)),
                "",
                f"{precip[h]:.1f}",
                "",
                int(rng.integers(1, 37)),
                "",
                int(rng.integers(0, 40)),
                "",
                f"{rng.uniform(2, 25):.1f}",
                "",
                f"{rng.uniform(99, 102.5):.2f}",
                "",
                "",
                "",
                "" if wc == "" else int(wc),
                "",
                "Snow" if precip[h] > 0 and temp[h] < 0 else ("Rain" if precip[h] > 0 else ""),
            ]
        )
    return _gzip(_lines(header, rows))


def bike_ridership() -> bytes:
    base, temp, precip = _bike_weather_series()
    rng = _rng(403)
    header = [
        "trip_id",
        "trip_duration_seconds",
        "trip_start_time",
        "trip_stop_time",
        "from_station_name",
        "to_station_name",
        "from_station_id",
        "to_station_id",
        "user_type",
    ]
    rows = []
    trip_id = 712382
    for h in range(_BIKE_HOURS):
        # t is the local hour; the weather series starts a day earlier, so its index for t is h + 24
        t = _BIKE_START + _dt.timedelta(hours=h)
        rush = 6.0 * np.exp(-((t.hour - 8.5) ** 2) / 3.0) + 7.0 * np.exp(
            -((t.hour - 17.5) ** 2) / 4.0
        )
        day = 2.0 * np.exp(-((t.hour - 13) ** 2) / 18.0)
        weekend = 0.6 if t.weekday() >= 5 else 1.0
        wi = h + 24
        mean = (
            2.5
            * (0.3 + rush * weekend + day)
            * np.exp(0.05 * temp[wi])
            * (0.5 if precip[wi] > 0 else 1.0)
        )
        for _ in range(int(rng.poisson(mean))):
            # the tutorial converts trips before 2017-07-01 from UTC to US/Eastern: write them in UTC
            start = t + _dt.timedelta(hours=5, seconds=int(rng.integers(0, 3600)))
            dur = int(rng.integers(120, 2700))
            s1, s2 = rng.integers(0, len(_STATIONS), 2)
            rows.append(
                [
                    trip_id,
                    dur,
                    start.strftime("%Y-%m-%d %H:%M:%S"),
                    (start + _dt.timedelta(seconds=dur)).strftime("%Y-%m-%d %H:%M:%S"),
                    _STATIONS[s1],
                    _STATIONS[s2],
                    7000 + int(s1),
                    7000 + int(s2),
                    "Member" if rng.random() < 0.85 else "Casual",
                ]
            )
            trip_id += 1
    return _gzip(_lines(header, rows))


def bike_holiday() -> bytes:
    rows = [
        ["2016-01-01", "New Year's Day"],
        ["2016-02-15", "Family Day"],
        ["2016-03-25", "Good Friday"],
        ["2016-05-23", "Victoria Day"],
        ["2016-07-01", "Canada Day"],
        ["2016-08-01", "Civic Holiday"],
        ["2016-09-05", "Labour Day"],
        ["2016-10-10", "Thanksgiving"],
        ["2016-12-25", "Christmas Day"],
        ["2016-12-26", "Boxing Day"],
        ["2017-01-01", "New Year's Day"],
        ["2017-01-02", "New Year's Day (observed)"],
        ["2017-02-20", "Family Day"],
        ["2017-04-14", "Good Friday"],
        ["2017-05-22", "Victoria Day"],
        ["2017-07-01", "Canada Day"],
        ["2017-08-07", "Civic Holiday"],
        ["2017-09-04", "Labour Day"],
        ["2017-10-09", "Thanksgiving"],
        ["2017-12-25", "Christmas Day"],
        ["2017-12-26", "Boxing Day"],
    ]
    return _gzip(_lines(["holiday_date", "description"], rows))


# --------------------------------------------------------------------------
# 05_multiclass_classification.sql
# COPY ecommerce_sales FROM 's3://redshift-ml-multiclass/ecommerce_data.txt' IAM_ROLE default
#   DELIMITER '\t' IGNOREHEADER 1 REGION 'us-east-1' MAXERROR 100;
# invoiceno, stockcode, description, quantity, invoicedate (varchar, 'M/D/YYYY H:MM' as in the
# Kaggle e-commerce data), unitprice, customerid, country.  The tutorial's target is the number of
# distinct invoice months of a customer (1..13, Dec 2010 - Dec 2011); every value occurs.
_PRODUCTS = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55),
    ("71053", "WHITE METAL LANTERN", 3.39),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", 2.75),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", 7.65),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 4.25),
    ("22633", "HAND WARMER UNION JACK", 1.85),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69),
    ("22745", "POPPY'S PLAYHOUSE BEDROOM", 2.10),
    ("22310", "IVORY KNITTED MUG COSY", 1.65),
    ("21754", "HOME BUILDING BLOCK WORD", 5.95),
    ("22960", "JAM MAKING SET WITH JARS", 4.25),
    ("48187", "DOORMAT NEW ENGLAND", 7.95),
]
_COUNTRIES = [
    "United Kingdom",
    "United Kingdom",
    "United Kingdom",
    "France",
    "Germany",
    "EIRE",
    "Spain",
    "Netherlands",
]


def ecommerce_data() -> bytes:
    rng = _rng(501)
    months = [(2010, 12)] + [(2011, m) for m in range(1, 13)]
    header = [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    rows = []
    invoice = 536365
    ncust = 130
    for c in range(ncust):
        cid = 12346 + c * 7
        active = (c % 13) + 1  # every number of active months occurs
        country = _COUNTRIES[int(rng.integers(0, len(_COUNTRIES)))]
        chosen = sorted(rng.choice(13, active, replace=False))
        for mi in chosen:
            y, m = months[mi]
            for _ in range(int(rng.integers(1, 3))):  # invoices in that month
                day = int(rng.integers(1, 29))
                hh, mm = int(rng.integers(8, 18)), int(rng.integers(0, 60))
                date = f"{m}/{day}/{y} {hh}:{mm:02d}"
                for _ in range(int(rng.integers(1, 3))):  # lines per invoice
                    code, desc, price = _PRODUCTS[int(rng.integers(0, len(_PRODUCTS)))]
                    qty = int(rng.integers(1, 4) * active)  # active customers buy more
                    rows.append([invoice, code, desc, qty, date, f"{price:.2f}", cid, country])
                invoice += 1
    return _lines(header, rows, sep="\t")


# --------------------------------------------------------------------------
# 06_linear_learner_regression.sql
# COPY abalone_dataset FROM 's3://redshift-ml-multiclass/abalone.csv' REGION 'us-east-1'
#   IAM_ROLE default CSV IGNOREHEADER 1 NULL AS 'NULL';
# abalone_dataset's first column is id INT IDENTITY(1, 1), which COPY does not load: the file has
# the other 9 columns: Sex (M/F/I), Length, Diameter, Height, Whole, Shucked, Viscera, Shell, Rings.
def _abalone_core(rng, n):
    sex = rng.choice(["M", "F", "I"], n, p=[0.37, 0.31, 0.32])
    rings = np.clip(np.round(rng.gamma(9.0, 1.1, n)), 1, 29).astype(int)
    growth = 1 - np.exp(-rings / 7.0)
    length = np.clip(growth * 0.72 + rng.normal(0, 0.03, n) - (sex == "I") * 0.05, 0.075, 0.815)
    diameter = np.clip(length * 0.79 + rng.normal(0, 0.015, n), 0.055, 0.65)
    height = np.clip(length * 0.27 + rng.normal(0, 0.01, n), 0.01, 0.3)
    whole = np.clip(length**3 * 3.3 + rng.normal(0, 0.04, n), 0.002, 2.8)
    shucked = np.clip(whole * 0.43 + rng.normal(0, 0.02, n), 0.001, 1.5)
    viscera = np.clip(whole * 0.22 + rng.normal(0, 0.01, n), 0.0005, 0.76)
    shell = np.clip(whole * 0.29 + 0.004 * rings + rng.normal(0, 0.01, n), 0.0015, 1.0)
    return sex, length, diameter, height, whole, shucked, viscera, shell, rings


def abalone_csv() -> bytes:
    rng = _rng(601)
    n = 3000
    sex, length, diameter, height, whole, shucked, viscera, shell, rings = _abalone_core(rng, n)
    rows = [
        [
            sex[i],
            f"{length[i]:.3f}",
            f"{diameter[i]:.3f}",
            f"{height[i]:.3f}",
            f"{whole[i]:.4f}",
            f"{shucked[i]:.4f}",
            f"{viscera[i]:.4f}",
            f"{shell[i]:.4f}",
            rings[i],
        ]
        for i in range(n)
    ]
    return _lines(
        ["Sex", "Length", "Diameter", "Height", "Whole", "Shucked", "Viscera", "Shell", "Rings"],
        rows,
    )


# --------------------------------------------------------------------------
# 09_create_model_use_cases.sql
# COPY abalone_xgb FROM 's3://redshift-downloads/redshift-ml/abalone_xg/' REGION 'us-east-1'
#   IAM_ROLE default IGNOREHEADER 1 CSV;
# length_val, diameter, height, whole_weight, shucked_weight, viscera_weight, shell_weight, rings,
# record_number (1..3000; the page trains on record_number < 2500); rings < 30 (NUM_CLASS '30').
def abalone_xg() -> bytes:
    rng = _rng(901)
    n = 3000
    _, length, diameter, height, whole, shucked, viscera, shell, rings = _abalone_core(rng, n)
    rows = [
        [
            f"{length[i]:.3f}",
            f"{diameter[i]:.3f}",
            f"{height[i]:.3f}",
            f"{whole[i]:.4f}",
            f"{shucked[i]:.4f}",
            f"{viscera[i]:.4f}",
            f"{shell[i]:.4f}",
            rings[i],
            i + 1,
        ]
        for i in range(n)
    ]
    return _lines(
        [
            "length_val",
            "diameter",
            "height",
            "whole_weight",
            "shucked_weight",
            "viscera_weight",
            "shell_weight",
            "rings",
            "record_number",
        ],
        rows,
    )


# --------------------------------------------------------------------------
# 07_linear_learner_multiclass.sql
# COPY public.covertype_data FROM 's3://redshift-ml-multiclass/covtype.data.gz' IAM_ROLE DEFAULT
#   gzip DELIMITER ',' REGION 'us-east-1';
# 55 integer columns, no header (as UCI covtype.data): 10 measurements, 4 one-hot wilderness areas,
# 40 one-hot soil types, cover_type 1..7 (all seven occur).
def covtype() -> bytes:
    rng = _rng(701)
    n = 3000
    rows = []
    elev_center = {1: 3130, 2: 2920, 3: 2390, 4: 2220, 5: 2790, 6: 2420, 7: 3360}
    for i in range(n):
        ct = (
            int(i % 7) + 1
            if i < 70
            else int(rng.choice(7, p=[0.3, 0.35, 0.1, 0.05, 0.06, 0.07, 0.07])) + 1
        )
        elevation = int(elev_center[ct] + rng.normal(0, 90))
        aspect = int(rng.integers(0, 360))
        slope = int(np.clip(rng.normal(14 + (ct in (3, 4, 6)) * 6, 6), 0, 60))
        hhyd = int(abs(rng.normal(250, 200)))
        vhyd = int(rng.normal(45, 55))
        hroad = int(abs(rng.normal(2300 if ct in (1, 2, 7) else 1000, 900)))
        h9, hn, h3 = (
            int(rng.integers(150, 255)),
            int(rng.integers(190, 255)),
            int(rng.integers(60, 200)),
        )
        hfire = int(abs(rng.normal(2000 if ct in (1, 2, 7) else 900, 800)))
        wild = [0, 0, 0, 0]
        wild[
            {1: 0, 2: 0, 3: 3, 4: 3, 5: 1, 6: 2, 7: 2}[ct]
            if rng.random() < 0.8
            else int(rng.integers(0, 4))
        ] = 1
        soil = [0] * 40
        soil[(ct * 5 + int(rng.integers(0, 5))) % 40] = 1
        rows.append(
            [elevation, aspect, slope, hhyd, vhyd, hroad, h9, hn, h3, hfire] + wild + soil + [ct]
        )
    return _gzip(_lines(None, rows))


# --------------------------------------------------------------------------
# 20_remote_inference.sql
# COPY public.rcf_taxi_data FROM 's3://sagemaker-sample-files/datasets/tabular/anomaly_benchmark_taxi/NAB_nyc_taxi.csv'
#   IAM_ROLE default IGNOREHEADER 1 FORMAT AS CSV;
# ride_timestamp timestamp, nbr_passengers int; half-hourly, as in the NAB data.
def nab_nyc_taxi() -> bytes:
    rng = _rng(2001)
    start = _dt.datetime(2014, 7, 1)
    rows = []
    for k in range(1000):
        t = start + _dt.timedelta(minutes=30 * k)
        hour = t.hour + t.minute / 60
        v = 15000 + 9000 * np.sin(2 * np.pi * (hour - 10) / 24) + rng.normal(0, 900)
        if k in (300, 301, 700):
            v *= 1.9  # a few anomalies
        rows.append([t.strftime("%Y-%m-%d %H:%M:%S"), int(max(v, 100))])
    return _lines(["timestamp", "value"], rows)


# --------------------------------------------------------------------------
OBJECTS = {
    "s3://redshift-downloads/redshift-ml/customer_activity/": customer_activity,
    "s3://redshiftbucket-ml-sagemaker/banknote_authentication/train_data/": banknote_train,
    "s3://redshiftbucket-ml-sagemaker/banknote_authentication/test_data/": banknote_test,
    "s3://gdelt-open-data/events/1979.csv": gdelt_1979,
    "s3://redshift-ml-bikesharing-data/bike-sharing-data/ridership/": bike_ridership,
    "s3://redshift-ml-bikesharing-data/bike-sharing-data/weather/": bike_weather,
    "s3://redshift-ml-bikesharing-data/bike-sharing-data/holiday/": bike_holiday,
    "s3://redshift-ml-multiclass/ecommerce_data.txt": ecommerce_data,
    "s3://redshift-ml-multiclass/abalone.csv": abalone_csv,
    "s3://redshift-ml-multiclass/covtype.data.gz": covtype,
    "s3://redshift-downloads/redshift-ml/abalone_xg/": abalone_xg,
    "s3://sagemaker-sample-files/datasets/tabular/anomaly_benchmark_taxi/NAB_nyc_taxi.csv": nab_nyc_taxi,
}

# file written under each prefix that a COPY names (the prefix's single part file)
PREFIX_PARTS = {
    "s3://redshift-downloads/redshift-ml/customer_activity/": "customer_activity.csv",
    "s3://redshiftbucket-ml-sagemaker/banknote_authentication/train_data/": "train_data.csv",
    "s3://redshiftbucket-ml-sagemaker/banknote_authentication/test_data/": "test_data.csv",
    "s3://redshift-ml-bikesharing-data/bike-sharing-data/ridership/": "ridership.csv.gz",
    "s3://redshift-ml-bikesharing-data/bike-sharing-data/weather/": "weather.csv.gz",
    "s3://redshift-ml-bikesharing-data/bike-sharing-data/holiday/": "holiday.csv.gz",
    "s3://redshift-downloads/redshift-ml/abalone_xg/": "abalone.csv",
}


def files():
    """(bucket, key, function) for every object to serve; prefixes get their part file."""
    out = []
    for url, fn in OBJECTS.items():
        assert url.startswith("s3://")
        bucket, _, key = url[len("s3://") :].partition("/")
        if url.endswith("/"):
            key = key + PREFIX_PARTS[url]
        out.append((bucket, key, fn))
    return out


def write_all(root: pathlib.Path) -> list[pathlib.Path]:
    """Write every object to root/<bucket>/<key>; returns the written paths."""
    root = pathlib.Path(root)
    written = []
    for bucket, key, fn in files():
        path = root / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fn())
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python data.py DIR")
    for p in write_all(pathlib.Path(sys.argv[1])):
        print(p, p.stat().st_size)
