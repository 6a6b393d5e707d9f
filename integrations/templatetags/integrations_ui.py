"""The integration's one state, for every page that shows an integration."""

from django import template

from integrations.rules import IntegrationState, integration_state
from m3terpaddle.text import sentence

register = template.Library()


@register.simple_tag
def integration_state_of(integration) -> IntegrationState:
    return integration_state(integration=integration)


# A reason stored before reasons were stored as sentences still ends with one full stop.
register.filter("sentence", sentence)
