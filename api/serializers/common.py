"""Fields every resource's serializers share. Serializers check types and shapes only; the
rules live in the services the views call."""

from rest_framework import serializers


def choice_field(choices, **kwargs):
    """A choice field whose error lists what is allowed."""
    allowed = ", ".join(choices.values)
    return serializers.ChoiceField(
        choices=choices.choices,
        error_messages={"invalid_choice": f'"{{input}}" is not allowed; use one of: {allowed}.'},
        **kwargs,
    )


class UsernameField(serializers.CharField):
    """m3ter's createdBy / lastModifiedBy: who did it (the hub names the user)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value.get_username()


class CommaListField(serializers.ListField):
    """An array in the query string, as m3ter's SDK sends it (ids=a,b) or repeated (ids=a&ids=b)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=200))
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list):
            data = [part for item in data for part in str(item).split(",") if part]
        return super().to_internal_value(data)
