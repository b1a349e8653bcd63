"""Inventory: what each sales point holds, by product and lot, and the append-only ledger of every movement."""
