"""Orders: what a customer bought, how it is fulfilled, and its history of events."""
