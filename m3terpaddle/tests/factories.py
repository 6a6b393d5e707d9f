import factory


class ReceivedAtFactory(factory.django.DjangoModelFactory):
    """A factory of a model whose `received_at` sets itself when saved (auto_now_add), which
    may be given one all the same (an event received long ago)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, received_at=None, **kwargs):
        created = super()._create(model_class, *args, **kwargs)
        if received_at is not None:
            model_class.objects.filter(pk=created.pk).update(received_at=received_at)
            created.received_at = received_at
        return created
