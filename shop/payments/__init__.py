"""Payments: card payments through Stripe (localstripe in development), cash collected, refunds."""
