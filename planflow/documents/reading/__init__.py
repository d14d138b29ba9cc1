"""Reading documents that come in: plan texts into plans, filled forms into submissions."""
