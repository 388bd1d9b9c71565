"""The campaign's one error type and how it lists several problems at once."""

import difflib

__all__ = ["CampaignError"]

_SHOWN = 20  # problems listed in one error message


class CampaignError(ValueError):
    """A campaign input that cannot be used. Nothing was changed on disk.

    Examples
    --------
    >>> from skbait.campaign import CampaignError
    >>> issubclass(CampaignError, ValueError)
    True
    """


def _problems(title, problems):
    lines = [title] + [f"  {p}" for p in problems[:_SHOWN]]
    if len(problems) > _SHOWN:
        lines.append(f"  ... and {len(problems) - _SHOWN} more")
    lines.append("Nothing was changed.")
    return CampaignError("\n".join(lines))


def columns_shown(columns, wanted=()):
    """A table's columns as an error about missing ones lists them: the names closest
    to the ``wanted`` ones first, then the table's first columns and how many more.

    A wide table's first columns seldom hold the one a typo missed (the label column is
    often last), and a list cut short without saying so reads as the whole header.

    Examples
    --------
    >>> from skbait.campaign._errors import columns_shown
    >>> columns_shown(["a", "b", "label"], ["lable"])
    "did you mean 'label'? Its 3 columns are: a, b, label"
    >>> columns_shown([f"x{i}" for i in range(25)], ["y"])[-37:]
    'x15, x16, x17, x18, x19, ... (5 more)'
    """
    names = [str(c) for c in columns]
    if not names:
        return "it has no columns"
    # Quoted where spaces around a name would not show otherwise (" b").
    listed = ", ".join(n if n == n.strip() and n else repr(n) for n in names[:_SHOWN])
    if len(names) > _SHOWN:
        listed += f", ... ({len(names) - _SHOWN} more)"
    close = []
    for name in wanted:
        close += [c for c in difflib.get_close_matches(str(name), names, n=3) if c not in close]
    if not close:
        return f"its {len(names)} columns are: {listed}"
    return f"did you mean {' or '.join(map(repr, close))}? Its {len(names)} columns are: {listed}"
