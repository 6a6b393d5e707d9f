"""m3ter's JSON (camelCase) ↔ the hub's model values, one module per resource."""
