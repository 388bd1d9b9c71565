"""Daily weather in Austin, Texas: rainfall regression (the paper's Figure 7, right) and
the day's weather events as a multi-label problem."""

import csv
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_austin_weather"]

_DATA_PACKAGE = "skbait.datasets"
_DATA_FILE = "austin_weather.csv"

TARGET_NAME = "PrecipitationSumInches"
FEATURE_NAMES = (
    "TempHighF",
    "TempAvgF",
    "TempLowF",
    "DewPointHighF",
    "DewPointAvgF",
    "DewPointLowF",
    "HumidityHighPercent",
    "HumidityAvgPercent",
    "HumidityLowPercent",
    "SeaLevelPressureHighInches",
    "SeaLevelPressureAvgInches",
    "SeaLevelPressureLowInches",
    "VisibilityHighMiles",
    "VisibilityAvgMiles",
    "VisibilityLowMiles",
    "WindHighMPH",
    "WindAvgMPH",
    "WindGustMPH",
)
#: Precipitation recorded as a trace ("T": some, but less than the 0.01 inch a
#: rain gauge can measure) is read as this many inches.
TRACE_INCHES = 0.001
#: The raw file's marker of a value that was not recorded.
MISSING_MARKER = "-"
#: The column of free-text weather events ("Rain , Thunderstorm").
EVENTS_COLUMN = "Events"
#: The events of ``task="multilabel"``, one label each. "Snow", recorded on one
#: day in the file, is left out: a label with one positive can be neither
#: learned nor scored on a held-out split.
EVENT_NAMES = ("Fog", "Rain", "Thunderstorm")

DESCR = f"""\
.. _austin_weather_dataset:

Austin weather dataset
----------------------

Daily weather observations at Austin, Texas, from 2013-12-21 to 2017-07-31:
the "Austin Weather" table of Weather Underground data as distributed on
Kaggle. Ash et al. (NeurIPS 2021, Figure 7 right) use it to actively
learn a linear model of the day's rainfall from meteorological features.
With ``task="multilabel"`` the target is instead the weather events the
station recorded that day (fog, rain, thunderstorm), any number of them: a
real multi-label problem.

**Data Set Characteristics:**

:Number of Instances: 1305 (1319 days in the raw file, 14 dropped, see below)
:Number of Attributes: 18 numeric meteorological features
:Target: ``{TARGET_NAME}``, the day's total precipitation in inches, from 0 to 5.2
         (859 dry days, 446 with some precipitation); with ``task="multilabel"``,
         one 0/1 column per event of ``{", ".join(EVENT_NAMES)}`` (68, 375 and
         188 days; 892 days have none, 228 one, 152 two and 33 all three)
:Missing Attribute Values: none after cleaning

**Features.** The daily high, average and low of temperature (F), dew point
(F), relative humidity (percent), sea-level pressure (inches of mercury) and
visibility (miles), and the daily high, average and gust wind speed (mph), in
the raw file's column order.

**Cleaning.** The raw file has 21 columns; this loader keeps 18 as features
and one as target:

- ``Date`` is dropped: rows stay in date order, so ``data[i]`` is day ``i``
  from 2013-12-21 on, skipping the dropped days.
- ``Events`` (free text such as "Rain , Thunderstorm") is not a feature,
  because it leaks the rainfall: a "Rain" event is recorded on wet days.
  With ``task="multilabel"`` it is the target, split at the commas; the one
  "Snow" day keeps its other events, and "Snow" is not a label.
- A target of ``T`` (trace: precipitation too small to measure, below 0.01
  inch) is read as {TRACE_INCHES} inch. 124 raw rows have a trace, 122 of them
  survive the next step.
- A feature recorded as ``{MISSING_MARKER}`` (not measured) drops the whole day:
  14 rows, 12 of them missing visibility. No value is imputed.

Features are returned in their raw units; standardise them before a linear
model (``make_pipeline(StandardScaler(), Ridge())``).

.. rubric:: References

- J. T. Ash, S. Goel, A. Krishnamurthy, S. Kakade. Gone Fishing: Neural Active
  Learning with Fisher Embeddings. NeurIPS 2021 (reference [42] there for the
  data).
"""


def _read_raw_rows():
    """The header and the rows of the shipped CSV file, as strings."""
    source = resources.files(_DATA_PACKAGE).joinpath("data").joinpath(_DATA_FILE)
    with source.open("r", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for row in reader if row]
    return header, rows


def _parse_target(value):
    value = value.strip()
    if value == "T":
        return TRACE_INCHES
    return float(value)


def _parse_events(value):
    """The 0/1 row of :data:`EVENT_NAMES` for one raw ``Events`` cell."""
    events = {event.strip() for event in value.split(",")}
    return [int(name in events) for name in EVENT_NAMES]


def load_austin_weather(*, task="regression", return_X_y=False, as_frame=False):
    """Load the Austin weather dataset (rainfall regression, or weather events).

    1305 days and 18 numeric meteorological features. With
    ``task="regression"`` the target is the day's total precipitation in
    inches: the regression task of the BAIT paper's Figure 7 (right). With
    ``task="multilabel"`` it is the weather events recorded that day, one
    0/1 column each for fog, rain and thunderstorm (a day may have none,
    one or several): a real multi-label problem. The data ship with the
    package; nothing is downloaded.

    Cleaning (see ``DESCR`` for details): ``Date`` is dropped, and the
    free-text ``Events`` column is never a feature (it leaks the rainfall);
    a trace of precipitation (``"T"``) becomes 0.001 inch; the 14 days with
    a feature recorded as missing (``"-"``) are dropped, nothing is imputed.

    Parameters
    ----------
    task : {"regression", "multilabel"}, default="regression"
        The target: the day's precipitation, or its weather events.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame and ``target`` as a Series
        (a DataFrame with one column per event for ``task="multilabel"``;
        pandas must be installed), and fill ``frame`` with both.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (1305, 18) or DataFrame
            The features, in raw units (float64).
        target : ndarray of shape (1305,) or (1305, 3), Series or DataFrame
            Daily precipitation in inches, or one 0/1 column (int64) per
            event.
        feature_names : list of str
            The names of the 18 feature columns.
        target_names : list of str
            ``["PrecipitationSumInches"]``, or ``["Fog", "Rain",
            "Thunderstorm"]``.
        frame : DataFrame of shape (1305, 19) or (1305, 21), or None
            Features and target together when ``as_frame=True``.
        DESCR : str
            The description of the dataset and of its cleaning.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    ValueError
        When ``task`` is unknown.
    TypeError
        When ``return_X_y`` or ``as_frame`` is not True or False.

    Examples
    --------
    >>> from skbait.datasets import load_austin_weather
    >>> X, y = load_austin_weather(return_X_y=True)
    >>> X.shape, y.shape
    ((1305, 18), (1305,))
    >>> bunch = load_austin_weather()
    >>> bunch.feature_names[:3]
    ['TempHighF', 'TempAvgF', 'TempLowF']
    >>> round(float(bunch.target.max()), 2)
    5.2
    >>> events = load_austin_weather(task="multilabel")
    >>> events.target_names, events.target.sum(axis=0).tolist()
    (['Fog', 'Rain', 'Thunderstorm'], [68, 375, 188])
    """
    if task not in ("regression", "multilabel"):
        raise ValueError(f"`task` must be 'regression' or 'multilabel', got {task!r}.")
    for name, value in (("return_X_y", return_X_y), ("as_frame", as_frame)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"`{name}` must be True or False, got {value!r}.")
    header, rows = _read_raw_rows()
    feature_cols = [header.index(name) for name in FEATURE_NAMES]
    if task == "multilabel":
        target_col, parse, target_names = header.index(EVENTS_COLUMN), _parse_events, EVENT_NAMES
    else:
        target_col, parse, target_names = header.index(TARGET_NAME), _parse_target, [TARGET_NAME]

    data, target = [], []
    for row in rows:
        values = [row[j].strip() for j in feature_cols]
        if MISSING_MARKER in values:
            continue
        data.append([float(v) for v in values])
        target.append(parse(row[target_col]))
    data = np.asarray(data, dtype=np.float64)
    target = np.asarray(target, dtype=np.int64 if task == "multilabel" else np.float64)

    feature_names = list(FEATURE_NAMES)
    target_names = list(target_names)
    frame = None
    if as_frame:
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is installed in tests
            raise ImportError(
                "load_austin_weather(as_frame=True) needs pandas: pip install pandas."
            ) from exc
        frame = pd.DataFrame(data, columns=feature_names)
        frame[target_names] = target.reshape(len(target), -1)
        data = frame[feature_names]
        target = frame[target_names] if task == "multilabel" else frame[TARGET_NAME]

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=feature_names,
        target_names=target_names,
        frame=frame,
        DESCR=DESCR,
    )
