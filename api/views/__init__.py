"""The REST API, shaped like m3ter's (paths, camelCase JSON, paging, errors) so code written for
m3ter's API works against the hub; one module per resource. Views only translate: every write
goes through a service, every read through a selector."""
