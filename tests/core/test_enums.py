"""Enums carry their one wording; the stored value stays the plain string."""
from flask_babel import force_locale

from shop.audit.models import Verdict
from shop.inventory.models import TransferStatus
from shop.sales_points.models import PointTier


def test_a_member_is_its_value_and_carries_its_label(app_ctx):
    assert Verdict("meets") is Verdict.MEETS and Verdict.MEETS == "meets" and str(Verdict.MEETS) == "meets"
    with force_locale("en"):
        assert str(Verdict.MEETS.label) == "Meets the criteria"
        assert str(TransferStatus.SHIPPED.label) == "In transit"


def test_labels_are_shown_in_vietnamese_first(app_ctx):
    assert str(Verdict.MEETS.label) == "Đạt tiêu chí"
    assert str(PointTier.CENTRE.label) == "Trung tâm OCOP cấp tỉnh"


def test_labels_and_choices_follow_the_definition_order(app_ctx):
    with force_locale("en"):
        assert [str(label) for label in PointTier.labels().values()] == ["Provincial OCOP centre",
                                                                        "Introduction and sales point"]
    assert [value for value, _label in Verdict.choices()] == ["meets", "meets_with_conditions", "does_not_meet"]
    # A template looks labels up by the stored string as well as by the member.
    assert Verdict.labels()["does_not_meet"] == Verdict.DOES_NOT_MEET.label
