from django.apps import AppConfig


class PaddleDestinationConfig(AppConfig):
    name = "paddle_destination"
    verbose_name = "Paddle"
