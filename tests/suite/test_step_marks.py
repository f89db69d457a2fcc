"""The marks the step catalogue reads."""

from atlas_suite.steplib.catalogue import deprecated, marks, sets_response


def test_a_step_is_marked_as_setting_the_response_or_as_a_deprecated_alias() -> None:
    @sets_response
    def saves() -> None: ...

    @deprecated("the load is refused as corruption")
    def old() -> None: ...

    assert marks(saves) == {"sets_response": True, "deprecated_for": None}
    assert marks(old)["deprecated_for"] == "the load is refused as corruption"
    assert marks(lambda: None) == {"sets_response": False, "deprecated_for": None}
