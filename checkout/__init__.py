"""Carts, orders and payments: the part of shopapi that must never charge twice."""
