"""What several apps' admins share."""


class ViewOnly:
    """For a ModelAdmin or an inline of rows the hub writes itself: people may look at them
    (and delete them, unless the admin says otherwise) but never add or edit them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
