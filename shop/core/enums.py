"""Enums that carry their wording. Each member is written with its one label, translated when shown:

    class Verdict(LabelledEnum):
        MEETS = "meets", _l("Meets the criteria")

`Verdict.MEETS == "meets"` and `Verdict("meets")` work as for any StrEnum (the database stores the value);
`Verdict.MEETS.label` is what pages, forms, emails and reports show, so a value is worded the same everywhere."""
from enum import StrEnum


class LabelledEnum(StrEnum):
    def __new__(cls, value: str, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label if label is not None else value
        return member

    @property
    def label(self):
        return self._label

    @classmethod
    def labels(cls) -> dict:
        """{member: label}, in definition order (for templates and choices)."""
        return {member: member.label for member in cls}

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        """(value, label) pairs for a select or radio field, in definition order."""
        return [(member.value, member.label) for member in cls]
