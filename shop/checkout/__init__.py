"""Checkout: the cart and placing an order (orchestrates orders, inventory and payments)."""
