"""JSON Schema machinery shared by every format that validates against a JSON Schema."""
