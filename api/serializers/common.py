"""Fields every resource's serializers share. Serializers check types and shapes only; the
rules live in the services the views call."""

from rest_framework import serializers
from rest_framework.fields import empty


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


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter, absent when left out (DRF reads a form's missing checkbox, and
    so a missing query parameter, as false)."""

    default_empty_html = empty

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)


class CommaListField(serializers.ListField):
    """An array in the query string, as m3ter's SDK sends it (ids=a,b) or repeated (ids=a&ids=b)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=200))
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list):
            # An empty part (ids=a,,b or ids=) is refused by the child, as the schema says.
            data = [part for item in data for part in str(item).split(",")]
        return super().to_internal_value(data)


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Dotted camelCase path, list positions in brackets.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The API's one error shape (m3ter's {"message": ...} with a code and the fields at fault)."""

    message = serializers.CharField(help_text="What went wrong and what to do.")
    code = serializers.CharField(help_text="invalid, not_found, conflict, …")
    errors = FieldErrorSerializer(many=True)
