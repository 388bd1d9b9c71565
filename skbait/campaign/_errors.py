"""The campaign's one error type and how it lists several problems at once."""

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
