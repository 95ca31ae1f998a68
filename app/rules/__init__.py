"""The stock rules, each written once: may this lot be used, may it go to this customer, is it free.

Every operation that takes stock out of a lot at a location asks `gate.refusals` and gets every
reason it may not; the pure parts live in `allocation` (usability, customer eligibility).
"""
